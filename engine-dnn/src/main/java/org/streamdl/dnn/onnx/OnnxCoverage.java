package org.streamdl.dnn.onnx;

import java.nio.file.Path;
import java.util.Map;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.model.Model;

/**
 * Prints what of an ONNX file StreamDL can import: each operator with its count, then either the
 * imported model or every node and attribute that stops the import.
 * <pre>java -cp ... org.streamdl.dnn.onnx.OnnxCoverage model.onnx</pre>
 */
public final class OnnxCoverage {
    private OnnxCoverage() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: OnnxCoverage <model.onnx>");
            System.exit(2);
        }
        Path path = Path.of(args[0]);
        OnnxModel onnx;
        try {
            onnx = OnnxReader.read(path);
        } catch (OnnxFormatException e) {
            System.out.println(e.getMessage());
            System.exit(1);
            return;
        }
        System.out.printf("%s: ir_version %d, opset %d, producer %s, %d nodes, %d initializers%n", path,
                onnx.irVersion(), onnx.opsetVersion(), onnx.producer(), onnx.nodes().size(), onnx.initializers().size());
        for (Map.Entry<String, int[]> op : OnnxImporter.coverage(onnx).entrySet()) {
            System.out.printf("  %-22s %4d  %s%n", op.getKey(), op.getValue()[0],
                    op.getValue()[1] == op.getValue()[0] ? "supported" : "NOT supported");
        }
        try (Model model = OnnxImporter.importModel(onnx, path.toString(), Kernels.create(1, Kernels.Preference.REFERENCE))) {
            System.out.println("imports as: " + model.network() + " (" + model.parameterCount() + " parameters)");
        } catch (OnnxFormatException e) {
            System.out.println(e.getMessage());
            System.exit(1);
        }
    }
}
