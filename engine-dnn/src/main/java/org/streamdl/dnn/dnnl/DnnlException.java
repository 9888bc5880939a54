package org.streamdl.dnn.dnnl;

/** A oneDNN call failed: the status by name, what was being done, and the shapes involved. */
public final class DnnlException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;

    public DnnlException(int status, String call, Object what) {
        super(call + " failed with dnnl status " + statusName(status) + " (" + status + ") for " + what);
        this.status = status;
    }

    public int status() {
        return status;
    }

    /** The names of oneDNN's status codes (dnnl_types.h); never parsed from native text. */
    static String statusName(int status) {
        return switch (status) {
            case 0 -> "success";
            case 1 -> "out_of_memory";
            case 2 -> "invalid_arguments";
            case 3 -> "unimplemented";
            case 4 -> "last_impl_reached";
            case 5 -> "runtime_error";
            case 6 -> "not_required";
            case 7 -> "invalid_graph";
            case 8 -> "invalid_graph_op";
            case 9 -> "invalid_shape";
            case 10 -> "invalid_data_type";
            default -> "unknown";
        };
    }
}
