/**
 * Flink SQL scoring with StreamDL models: the {@code streamdl} model provider for
 * {@code CREATE MODEL} / {@code ML_PREDICT} ({@link org.streamdl.flink.sql.StreamDLModelProviderFactory},
 * options in {@link org.streamdl.flink.sql.StreamDLModelOptions}) and the scalar function
 * {@link org.streamdl.flink.sql.StreamDLPredict}.
 *
 * <p>Contracts of the package: everything a statement can get wrong is refused when it is planned,
 * with a {@code ValidationException} naming the option or column; a model and its kernels are used
 * only by the thread that loaded them (the task thread for the sync function and the scalar
 * function, one scoring thread for the async function); what Flink ships to the task managers
 * holds options and column layouts, never a model. Arguments are non-null unless documented.
 */
package org.streamdl.flink.sql;
