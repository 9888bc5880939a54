package org.streamdl.dnn.layers;

/** Point-wise activation layers: Sigmoid, Tanh, LeakyReLU, GELU, and Identity. */
public final class Activation {
    private Activation() {}

    public static Layer sigmoid(String name) {
        return new PointwiseLayer(name) {
            @Override
            void apply(float[] x, float[] y, int n) {
                for (int i = 0; i < n; i++) {
                    float v = x[i];
                    // never exp of a large positive number
                    y[i] = v >= 0 ? 1f / (1f + (float) Math.exp(-v)) : (float) Math.exp(v) / (1f + (float) Math.exp(v));
                }
            }

            @Override
            void derivative(float[] x, float[] y, float[] dy, float[] dx, int n) {
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
            void apply(float[] x, float[] y, int n) {
                for (int i = 0; i < n; i++) {
                    y[i] = (float) Math.tanh(x[i]);
                }
            }

            @Override
            void derivative(float[] x, float[] y, float[] dy, float[] dx, int n) {
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
        float slope = (float) negativeSlope;
        return new PointwiseLayer(name) {
            @Override
            void apply(float[] x, float[] y, int n) {
                for (int i = 0; i < n; i++) {
                    y[i] = x[i] > 0 ? x[i] : slope * x[i];
                }
            }

            @Override
            void derivative(float[] x, float[] y, float[] dy, float[] dx, int n) {
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
     * Φ from erf by the Abramowitz–Stegun 7.1.26 approximation (error below 1.5e-7).
     */
    public static Layer gelu(String name) {
        return new PointwiseLayer(name) {
            @Override
            void apply(float[] x, float[] y, int n) {
                for (int i = 0; i < n; i++) {
                    y[i] = (float) (x[i] * cdf(x[i]));
                }
            }

            @Override
            void derivative(float[] x, float[] y, float[] dy, float[] dx, int n) {
                for (int i = 0; i < n; i++) {
                    double v = x[i];
                    double pdf = Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
                    dx[i] = (float) (dy[i] * (cdf(v) + v * pdf));
                }
            }

            @Override
            public LayerConfig config() {
                return LayerConfig.of("GELU", name());
            }
        };
    }

    public static Layer identity(String name) {
        return new PointwiseLayer(name) {
            @Override
            void apply(float[] x, float[] y, int n) {
                System.arraycopy(x, 0, y, 0, n);
            }

            @Override
            void derivative(float[] x, float[] y, float[] dy, float[] dx, int n) {
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

    static double erf(double x) {
        double t = 1 / (1 + 0.3275911 * Math.abs(x));
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        double r = 1 - poly * Math.exp(-x * x);
        return x >= 0 ? r : -r;
    }
}
