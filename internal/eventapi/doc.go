// Package eventapi is the home of every Lambda event source but HTTP: the
// Scheduler function's schedule inputs, the Dispatch and DeadLetter
// functions' SQS batches (with their batchItemFailures), and the Trigger
// function's EventBridge events and Scheduler bodies. Each handler decodes
// its event and calls one service; HTTP routes live in httpapi.
package eventapi
