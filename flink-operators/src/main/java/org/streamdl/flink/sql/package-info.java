/**
 * The Flink SQL model provider ({@code ML_PREDICT}) and scoring UDFs.
 */
package org.streamdl.flink.sql;
