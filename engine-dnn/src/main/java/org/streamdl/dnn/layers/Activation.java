package org.streamdl.dnn.layers;

/** Point-wise activation layers: Sigmoid, Tanh, LeakyReLU, GELU, and Identity. */
public final class Activation {
    private Activation() {}

    public static Layer sigmoid(String name) {
        return new PointwiseLayer(name) {
            @Override
            void apply(double[] x, double[] y, int n) {
                for (int i = 0; i < n; i++) {
                    double v = x[i];
                    // never exp of a large positive number
                    y[i] = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
                }
            }

            @Override
            void derivative(double[] x, double[] y, double[] dy, double[] dx, int n) {
                for (int i = 0; i < n; i++) {
                    dx[i] = dy[i] * y[i] * (1 - y[i]);
                }
            }

            @Override
            public LayerConfig config() {
                return LayerConfig.of("Sigmoid", name());
            }
        };
    }

    public static Layer tanh(String name) {
        return new PointwiseLayer(name) {
            @Override
            void apply(double[] x, double[] y, int n) {
                for (int i = 0; i < n; i++) {
                    y[i] = Math.tanh(x[i]);
                }
            }

            @Override
            void derivative(double[] x, double[] y, double[] dy, double[] dx, int n) {
                for (int i = 0; i < n; i++) {
                    dx[i] = dy[i] * (1 - y[i] * y[i]);
                }
            }

            @Override
            public LayerConfig config() {
                return LayerConfig.of("Tanh", name());
            }
        };
    }

    /** max(x, 0) + slope · min(x, 0), PyTorch's default slope 0.01. */
    public static Layer leakyRelu(String name, double negativeSlope) {
        double slope = negativeSlope;
        return new PointwiseLayer(name) {
            @Override
            void apply(double[] x, double[] y, int n) {
                for (int i = 0; i < n; i++) {
                    y[i] = x[i] > 0 ? x[i] : slope * x[i];
                }
            }

            @Override
            void derivative(double[] x, double[] y, double[] dy, double[] dx, int n) {
                for (int i = 0; i < n; i++) {
                    dx[i] = x[i] > 0 ? dy[i] : slope * dy[i];
                }
            }

            @Override
            public LayerConfig config() {
                return LayerConfig.of("LeakyReLU", name(), "negativeSlope", negativeSlope);
            }
        };
    }

    /**
     * GELU, x·Φ(x) with the exact normal CDF (Hendrycks and Gimpel, 2016), PyTorch's default;
     * Φ from erf to double precision, so its derivative is exact enough for float64 gradient checks.
     */
    public static Layer gelu(String name) {
        return new PointwiseLayer(name) {
            @Override
            void apply(double[] x, double[] y, int n) {
                for (int i = 0; i < n; i++) {
                    y[i] = x[i] * cdf(x[i]);
                }
            }

            @Override
            void derivative(double[] x, double[] y, double[] dy, double[] dx, int n) {
                for (int i = 0; i < n; i++) {
                    double v = x[i];
                    double pdf = Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
                    dx[i] = dy[i] * (cdf(v) + v * pdf);
                }
            }

            @Override
            public LayerConfig config() {
                return LayerConfig.of("GELU", name());
            }
        };
    }

    /** min(max(x, low), high); the gradient passes strictly inside the range. */
    public static Layer clip(String name, double low, double high) {
        return new PointwiseLayer(name) {
            @Override
            void apply(double[] x, double[] y, int n) {
                for (int i = 0; i < n; i++) {
                    y[i] = Math.min(high, Math.max(low, x[i]));
                }
            }

            @Override
            void derivative(double[] x, double[] y, double[] dy, double[] dx, int n) {
                for (int i = 0; i < n; i++) {
                    dx[i] = x[i] > low && x[i] < high ? dy[i] : 0;
                }
            }

            @Override
            public LayerConfig config() {
                return LayerConfig.of("Clip", name(), "low", low, "high", high);
            }
        };
    }

    /** The error function (ONNX Erf; GELU's decomposed form uses it). */
    public static Layer erf(String name) {
        return new PointwiseLayer(name) {
            @Override
            void apply(double[] x, double[] y, int n) {
                for (int i = 0; i < n; i++) {
                    y[i] = Activation.erf(x[i]);
                }
            }

            @Override
            void derivative(double[] x, double[] y, double[] dy, double[] dx, int n) {
                for (int i = 0; i < n; i++) {
                    dx[i] = dy[i] * 2 / Math.sqrt(Math.PI) * Math.exp(-x[i] * x[i]);
                }
            }

            @Override
            public LayerConfig config() {
                return LayerConfig.of("Erf", name());
            }
        };
    }

    public static Layer identity(String name) {
        return new PointwiseLayer(name) {
            @Override
            void apply(double[] x, double[] y, int n) {
                System.arraycopy(x, 0, y, 0, n);
            }

            @Override
            void derivative(double[] x, double[] y, double[] dy, double[] dx, int n) {
                System.arraycopy(dy, 0, dx, 0, n);
            }

            @Override
            public LayerConfig config() {
                return LayerConfig.of("Identity", name());
            }
        };
    }

    static double cdf(double x) {
        return 0.5 * (1 + erf(x / Math.sqrt(2)));
    }

    /**
     * erf to double precision by the series 2/√π · e^(-x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)), whose
     * terms are all positive (no cancellation); beyond |x| = 6, erf is ±1 in double.
     */
    static double erf(double x) {
        double a = Math.abs(x);
        if (a >= 6) {
            return Math.signum(x);
        }
        double term = a;
        double sum = a;
        double square = a * a;
        for (int n = 1; term > 1e-17 * sum; n++) {
            term *= 2 * square / (2 * n + 1);
            sum += term;
        }
        double r = 2 / Math.sqrt(Math.PI) * Math.exp(-square) * sum;
        return x >= 0 ? r : -r;
    }
}
