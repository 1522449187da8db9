// Package sample holds tenantgate's built-in sample data sets and loads
// them into a running gateway over its HTTP API.
//
// A Set is everything one data set needs: an index template, the
// documents (with fixed ids, so loading twice overwrites instead of
// duplicating) and the OpenSearch Dashboards saved objects (an NDJSON
// export) with the dashboard to open. Two sets exist:
//
//   - Weblogs: web server logs generated deterministically in Go (fixed
//     seed, spanning the days before a given time), with an index
//     pattern, six visualizations, a saved search and the dashboard
//     "[Sample] Web logs", all generated so ids and references agree;
//   - Nginx: the real OpenSearch catalog sample (990 nginx access logs,
//     their index templates and the nginx dashboard export) read from a
//     fixtures folder and adapted to what tenantgate supports.
//
// Client.Load puts a set into one tenant: PUT /_index_template, POST
// /_bulk in batches, then POST /api/saved_objects/_import?overwrite=true.
// It is what "tenantgate sample load" runs.
package sample
