package org.streamdl.dnn.layers;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.streamdl.tensor.Checks;

/**
 * A layer's type, name and attributes as strings (a model file's architecture), plus the configs
 * of its children for containers.
 */
public record LayerConfig(String type, String name, Map<String, String> attributes, List<LayerConfig> children) {

    public LayerConfig {
        attributes = Map.copyOf(attributes);
        children = List.copyOf(children);
    }

    public static LayerConfig of(String type, String name, Object... keyValues) {
        Checks.argument(keyValues.length % 2 == 0, "attributes come in key, value pairs");
        Map<String, String> attributes = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            attributes.put((String) keyValues[i], String.valueOf(keyValues[i + 1]));
        }
        return new LayerConfig(type, name, attributes, List.of());
    }

    public long longAttribute(String key) {
        return Long.parseLong(required(key));
    }

    public double doubleAttribute(String key) {
        return Double.parseDouble(required(key));
    }

    public boolean booleanAttribute(String key) {
        return Boolean.parseBoolean(required(key));
    }

    private String required(String key) {
        String v = attributes.get(key);
        Checks.argument(v != null, "layer '%s' (%s) has no attribute '%s'", name, type, key);
        return v;
    }
}
