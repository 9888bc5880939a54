/**
 * Runnable end-to-end StreamDL jobs, one sub-package per job.
 */
package org.streamdl.examples;
