package sample

import "errors"

var (
	// ErrInvalid is a bad argument: an unknown set, a missing fixtures
	// folder, a fixture of an unexpected shape.
	ErrInvalid = errors.New("invalid sample request")
	// ErrServer is a request the gateway refused; the error names the
	// call, the status and OpenSearch's reason.
	ErrServer = errors.New("the gateway refused a request")
	// ErrImportUnavailable means the gateway has no saved objects import
	// endpoint (POST /api/saved_objects/_import answered 404 or 405): the
	// data is loaded, the dashboard is not.
	ErrImportUnavailable = errors.New("the gateway has no saved objects import endpoint")
)
