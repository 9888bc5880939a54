package org.streamdl.serving;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.MultipleParameterTool;

/**
 * The command-line options of a StreamDL job: each declared once as a Flink {@link ConfigOption}
 * (name, type, default) with a line of help, read with Flink's {@link MultipleParameterTool} and
 * converted by Flink's {@link Configuration}. {@link #parse} refuses, by name, an unknown option,
 * a missing required one, one given twice, one without its value and a value of the wrong type;
 * {@link #usage} lists them all with their defaults. Shared by the serving and the training job.
 */
final class JobOptions {
    private final String title;
    private final Map<String, Declared> declared = new LinkedHashMap<>();

    private record Declared(ConfigOption<?> option, String kind, String valueHint, boolean required, String help) {
        boolean flag() {
            return valueHint == null;
        }
    }

    JobOptions(String title) {
        this.title = title;
    }

    ConfigOption<String> string(String name, String valueHint, String fallback, String help) {
        ConfigOption<String> o = fallback == null ? ConfigOptions.key(name).stringType().noDefaultValue()
                : ConfigOptions.key(name).stringType().defaultValue(fallback);
        return add(o, "text", valueHint, false, help);
    }

    ConfigOption<String> requiredString(String name, String valueHint, String help) {
        return add(ConfigOptions.key(name).stringType().noDefaultValue(), "text", valueHint, true, help);
    }

    ConfigOption<Integer> integer(String name, String valueHint, Integer fallback, String help) {
        ConfigOption<Integer> o = fallback == null ? ConfigOptions.key(name).intType().noDefaultValue()
                : ConfigOptions.key(name).intType().defaultValue(fallback);
        return add(o, "a whole number", valueHint, false, help);
    }

    ConfigOption<Long> longInteger(String name, String valueHint, long fallback, String help) {
        return add(ConfigOptions.key(name).longType().defaultValue(fallback), "a whole number", valueHint, false, help);
    }

    ConfigOption<Double> number(String name, String valueHint, Double fallback, String help) {
        ConfigOption<Double> o = fallback == null ? ConfigOptions.key(name).doubleType().noDefaultValue()
                : ConfigOptions.key(name).doubleType().defaultValue(fallback);
        return add(o, "a number", valueHint, false, help);
    }

    /** An option without a value: given means true. */
    ConfigOption<Boolean> flag(String name, String help) {
        return add(ConfigOptions.key(name).booleanType().defaultValue(false), "true or false", null, false, help);
    }

    private <T> ConfigOption<T> add(ConfigOption<T> option, String kind, String valueHint, boolean required, String help) {
        if (declared.put(option.key(), new Declared(option, kind, valueHint, required, help)) != null) {
            throw new IllegalStateException("option --" + option.key() + " is declared twice");
        }
        return option;
    }

    /** Every option, its value and its default, one per line. */
    String usage() {
        List<String> lines = new ArrayList<>();
        lines.add(title + " options:");
        int width = 0;
        for (Declared d : declared.values()) {
            width = Math.max(width, synopsis(d).length());
        }
        for (Declared d : declared.values()) {
            String tail = d.required() ? " (required)"
                    : d.option().hasDefaultValue() && !d.flag() ? " (default " + d.option().defaultValue() + ")" : "";
            lines.add(String.format("  %-" + (width + 2) + "s%s%s", synopsis(d), d.help(), tail));
        }
        return String.join("\n", lines);
    }

    private static String synopsis(Declared d) {
        return "--" + d.option().key() + (d.flag() ? "" : " " + d.valueHint());
    }

    /** The options in {@code args}, checked against the declarations; refuses bad ones by name. */
    Values parse(String... args) {
        for (int i = 0; i < args.length; i++) {
            // a value follows its option; anything else must be an option
            boolean value = i > 0 && args[i - 1].startsWith("--") && (!args[i].startsWith("-") || isNumber(args[i]));
            if (!value && !args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + args[i] + "'; options start with --");
            }
        }
        MultipleParameterTool tool;
        try {
            tool = MultipleParameterTool.fromArgs(args);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot read the options: " + e.getMessage(), e);
        }
        Map<String, String> given = new LinkedHashMap<>();
        for (Map.Entry<String, Collection<String>> e : tool.toMultiMap().entrySet()) {
            String name = e.getKey();
            Declared d = declared.get(name);
            if (d == null) {
                throw new IllegalArgumentException("unknown option --" + name);
            }
            if (e.getValue().size() > 1) {
                throw new IllegalArgumentException("option --" + name + " is given twice");
            }
            String value = e.getValue().iterator().next();
            boolean noValue = "__NO_VALUE_KEY".equals(value);
            if (d.flag()) {
                if (!noValue) {
                    throw new IllegalArgumentException("option --" + name + " takes no value but was given '" + value + "'");
                }
                value = "true";
            } else if (noValue) {
                throw new IllegalArgumentException("option --" + name + " needs a value");
            }
            given.put(name, value);
        }
        List<String> missing = new ArrayList<>();
        for (Declared d : declared.values()) {
            if (d.required() && !given.containsKey(d.option().key())) {
                missing.add("--" + d.option().key());
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("missing required option" + (missing.size() > 1 ? "s " : " ")
                    + String.join(", ", missing));
        }
        return new Values(given);
    }

    private static boolean isNumber(String arg) {
        try {
            Double.parseDouble(arg);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** The options one command line gave, typed on request. */
    final class Values {
        private final Map<String, String> given;
        private final Configuration conf;

        private Values(Map<String, String> given) {
            this.given = given;
            this.conf = Configuration.fromMap(given);
        }

        boolean has(ConfigOption<?> option) {
            return given.containsKey(option.key());
        }

        /** The value given, else the default (null when there is none). */
        <T> T get(ConfigOption<T> option) {
            try {
                return conf.get(option);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("option --" + option.key() + " must be "
                        + declared.get(option.key()).kind() + " but was '" + given.get(option.key()) + "'", e);
            }
        }

        int atLeast(ConfigOption<Integer> option, int min) {
            int v = get(option);
            if (v < min) {
                throw new IllegalArgumentException("option --" + option.key() + " must be >= " + min + " but was " + v);
            }
            return v;
        }

        long atLeast(ConfigOption<Long> option, long min) {
            long v = get(option);
            if (v < min) {
                throw new IllegalArgumentException("option --" + option.key() + " must be >= " + min + " but was " + v);
            }
            return v;
        }

        /** The options as given, for a model's provenance. */
        Map<String, String> asGiven() {
            return Map.copyOf(given);
        }
    }
}
