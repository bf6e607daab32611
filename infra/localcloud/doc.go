// Package localcloud runs Herald on one machine without AWS or Docker: it
// reads template.yaml, creates the tables and queues it declares in moto,
// serves the HTTP API by turning requests into API Gateway payload-2.0
// events for the same handlers the Lambdas run (a route's Lambda authorizer
// too, should a template declare one; Herald's declares none), and
// polls SQS for the queue consumers like Lambda's event source mapping.
package localcloud
