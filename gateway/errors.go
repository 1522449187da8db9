package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/tenantgate/tenantgate/admin"
	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/auth"
	"github.com/tenantgate/tenantgate/dashboards"
	"github.com/tenantgate/tenantgate/executions"
	"github.com/tenantgate/tenantgate/flows"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/namespaces"
	"github.com/tenantgate/tenantgate/snapshot"
	"github.com/tenantgate/tenantgate/tenants"
	"github.com/tenantgate/tenantgate/worker"
)

// Error is an error the gateway answers with a given status and an
// OpenSearch error type and reason. The reason is shown to the client.
type Error struct {
	Status int
	Type   string
	Reason string
	// Header holds extra response headers (WWW-Authenticate).
	Header map[string]string
}

// Error implements error.
func (e *Error) Error() string { return e.Reason }

func badRequest(typ, format string, args ...any) *Error {
	return &Error{Status: fiber.StatusBadRequest, Type: typ, Reason: fmt.Sprintf(format, args...)}
}

// forbidden is the one 403 for "no such tenant" and "not yours" alike.
func forbidden(action, user, tenant string) *Error {
	return &Error{Status: fiber.StatusForbidden, Type: "security_exception",
		Reason: fmt.Sprintf("no permissions for [%s] and User [name=%s] on tenant [%s]", action, user, tenant)}
}

// tenantLocked is the 423 of a locked or frozen tenant.
func tenantLocked(format string, args ...any) *Error {
	return &Error{Status: fiber.StatusLocked, Type: "tenant_locked_exception", Reason: fmt.Sprintf(format, args...)}
}

func unauthorized(reason string) *Error {
	return &Error{Status: fiber.StatusUnauthorized, Type: "security_exception", Reason: reason,
		Header: map[string]string{fiber.HeaderWWWAuthenticate: `Bearer realm="tenantgate"`}}
}

// tooManySignIns is the 429 of a password sign-in refused for too many
// failures of its user name or client address, with Retry-After in
// whole seconds. It does not say which of the two is blocked.
func tooManySignIns(retry time.Duration) *Error {
	secs := int((retry + time.Second - 1) / time.Second)
	return &Error{Status: fiber.StatusTooManyRequests, Type: "security_exception",
		Reason: fmt.Sprintf("too many failed sign-ins for this user or client address: password sign-in is blocked for %d more seconds; try again later or use an API token", secs),
		Header: map[string]string{fiber.HeaderRetryAfter: strconv.Itoa(secs)}}
}

// errorBody is OpenSearch's error shape.
type errorBody struct {
	Error struct {
		RootCause []errorCause `json:"root_cause"`
		Type      string       `json:"type"`
		Reason    string       `json:"reason"`
		Index     string       `json:"index,omitempty"`
	} `json:"error"`
	Status int `json:"status"`
}

type errorCause struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
	Index  string `json:"index,omitempty"`
}

// osdError is OpenSearch Dashboards' error shape, used for its API
// (/api/…) and short links (/goto/…):
// {"statusCode":404,"error":"Not Found","message":"Saved object [dashboard/x] not found"}.
type osdError struct {
	StatusCode int    `json:"statusCode"`
	Error      string `json:"error"`
	Message    string `json:"message"`
}

// securityRoute reports whether the request is for OpenSearch Security's
// REST API, whose errors have its shape: {"status":"FORBIDDEN","message":"…"}.
func securityRoute(c *fiber.Ctx) bool {
	p := c.Path()
	return strings.HasPrefix(p, "/_plugins/_security/api/") || strings.HasPrefix(p, "/_opendistro/_security/api/")
}

// osdRoute reports whether the request is for OpenSearch Dashboards' API,
// whose errors have OpenSearch Dashboards' shape.
func osdRoute(c *fiber.Ctx) bool {
	p := c.Path()
	return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/goto/")
}

// classify maps any error to a status, an OpenSearch type and a reason
// safe for the client. It is the only place that decides statuses.
func classify(err error) (status int, typ, reason, idx string) {
	var ge *Error
	var ie *index.Error
	var fe *fiber.Error
	var de *dashboards.Error
	var ae *admin.Error
	switch {
	case errors.As(err, &ge):
		return ge.Status, ge.Type, ge.Reason, ""
	case errors.As(err, &ae):
		status := admin.StatusOf(ae.Kind)
		switch status {
		case fiber.StatusInternalServerError:
			return status, "exception", "internal server error", ""
		case fiber.StatusForbidden:
			return status, "security_exception", ae.Message, ""
		case fiber.StatusServiceUnavailable:
			return status, "unavailable_exception", ae.Message, ""
		case fiber.StatusLocked:
			return status, "tenant_locked_exception", ae.Message, ""
		case fiber.StatusNotFound:
			return status, "resource_not_found_exception", ae.Message, ""
		case fiber.StatusConflict:
			return status, "resource_already_exists_exception", ae.Message, ""
		}
		return status, "illegal_argument_exception", ae.Message, ""
	case errors.As(err, &de):
		switch {
		case errors.Is(de.Kind, dashboards.ErrNotFound):
			return fiber.StatusNotFound, "not_found", de.Message, ""
		case errors.Is(de.Kind, dashboards.ErrConflict):
			return fiber.StatusConflict, "conflict", de.Message, ""
		}
		return fiber.StatusBadRequest, "bad_request", de.Message, ""
	case errors.As(err, &ie):
		status := fiber.StatusInternalServerError
		switch {
		case errors.Is(ie.Kind, index.ErrInvalid), errors.Is(ie.Kind, index.ErrExists):
			status = fiber.StatusBadRequest
		case errors.Is(ie.Kind, index.ErrNotFound):
			status = fiber.StatusNotFound
		case errors.Is(ie.Kind, index.ErrConflict):
			status = fiber.StatusConflict
		}
		if status == fiber.StatusInternalServerError {
			return status, "exception", "internal server error", ""
		}
		return status, ie.Type, ie.Reason, ie.Index
	case errors.Is(err, namespaces.ErrNoKey):
		return fiber.StatusServiceUnavailable, "unavailable_exception", err.Error(), ""
	case errors.Is(err, namespaces.ErrInvalid):
		return fiber.StatusBadRequest, "illegal_argument_exception", err.Error(), ""
	case errors.Is(err, namespaces.ErrNotFound):
		return fiber.StatusNotFound, "resource_not_found_exception", err.Error(), ""
	case errors.Is(err, namespaces.ErrConflict):
		return fiber.StatusConflict, "resource_already_exists_exception", err.Error(), ""
	case errors.Is(err, flows.ErrInvalid):
		// Kestra answers a flow that breaks its rules with 422 and
		// "Invalid entity: <violations>".
		return fiber.StatusUnprocessableEntity, "illegal_argument_exception", "Invalid entity: " + err.Error(), ""
	case errors.Is(err, flows.ErrNotFound):
		return fiber.StatusNotFound, "resource_not_found_exception", err.Error(), ""
	case errors.Is(err, flows.ErrConflict):
		return fiber.StatusConflict, "resource_already_exists_exception", err.Error(), ""
	case errors.Is(err, auth.ErrUnauthenticated):
		return fiber.StatusUnauthorized, "security_exception", err.Error(), ""
	case errors.Is(err, tenants.ErrInvalid):
		return fiber.StatusBadRequest, "illegal_argument_exception", err.Error(), ""
	case errors.Is(err, executions.ErrNotFound), errors.Is(err, worker.ErrNotFound):
		return fiber.StatusNotFound, "resource_not_found_exception", err.Error(), ""
	case errors.Is(err, executions.ErrInvalid), errors.Is(err, worker.ErrInvalid):
		return fiber.StatusBadRequest, "illegal_argument_exception", err.Error(), ""
	case errors.Is(err, executions.ErrTransition), errors.Is(err, executions.ErrTerminal),
		errors.Is(err, executions.ErrConflict), errors.Is(err, worker.ErrDisabled), errors.Is(err, worker.ErrConflict):
		return fiber.StatusConflict, "illegal_state_exception", err.Error(), ""
	case errors.Is(err, snapshot.ErrNotFound):
		return fiber.StatusNotFound, "resource_not_found_exception", err.Error(), ""
	case errors.Is(err, snapshot.ErrExists):
		return fiber.StatusConflict, "resource_already_exists_exception", err.Error(), ""
	case errors.Is(err, snapshot.ErrInvalid):
		return fiber.StatusBadRequest, "illegal_argument_exception", err.Error(), ""
	case errors.Is(err, snapshot.ErrCorrupt), errors.Is(err, snapshot.ErrFormat), errors.Is(err, snapshot.ErrVerify):
		// The request is sound; the snapshot is not what its manifest says.
		return fiber.StatusUnprocessableEntity, "snapshot_exception", err.Error(), ""
	case errors.Is(err, snapshot.ErrNoKey):
		return fiber.StatusServiceUnavailable, "unavailable_exception", err.Error(), ""
	case errors.Is(err, syscall.ENOSPC):
		return fiber.StatusInsufficientStorage, "insufficient_storage_exception", "no space left on the device", ""
	case errors.Is(err, worker.ErrClosed):
		return fiber.StatusServiceUnavailable, "unavailable_exception", "the server is shutting down", ""
	case errors.As(err, &fe):
		switch fe.Code {
		case fiber.StatusRequestEntityTooLarge:
			return fe.Code, "content_too_long_exception", "request body is larger than limits.body_bytes", ""
		case fiber.StatusNotFound, fiber.StatusMethodNotAllowed:
			return fe.Code, "illegal_argument_exception", "no handler found for this uri and method", ""
		}
		if fe.Code < 500 {
			return fe.Code, "illegal_argument_exception", fe.Message, ""
		}
	case errors.Is(err, context.DeadlineExceeded):
		return fiber.StatusGatewayTimeout, "timeout_exception", "the request took longer than the server allows", ""
	case errors.Is(err, index.ErrClosed):
		return fiber.StatusServiceUnavailable, "unavailable_exception", "the server is shutting down", ""
	}
	return fiber.StatusInternalServerError, "exception", "internal server error", ""
}

// errorHandler is Fiber's error handler: it writes every error in
// OpenSearch's shape and logs server errors with the request id.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	status, typ, reason, idx := classify(err)
	if status >= 500 {
		reason = fmt.Sprintf("%s (request id %s)", reason, requestID(c))
		s.log.LogAttrs(c.UserContext(), slog.LevelError, "request failed",
			slog.String("request_id", requestID(c)), slog.String("method", c.Method()),
			slog.String("route", routePath(c)), slog.Any("err", err))
	}
	var ge *Error
	if errors.As(err, &ge) {
		for k, v := range ge.Header {
			c.Set(k, v)
		}
	}
	if status == fiber.StatusUnauthorized {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="tenantgate"`)
	}
	s.auditRefusal(c, err, status, reason)
	if securityRoute(c) {
		return c.Status(status).JSON(securityStatus{Status: strings.ToUpper(strings.ReplaceAll(utils.StatusMessage(status), " ", "_")), Message: reason})
	}
	if osdRoute(c) {
		if status == fiber.StatusInternalServerError {
			reason = fmt.Sprintf("An internal server error occurred (request id %s)", requestID(c))
		}
		return c.Status(status).JSON(osdError{StatusCode: status, Error: utils.StatusMessage(status), Message: reason})
	}
	var body errorBody
	body.Error.Type, body.Error.Reason, body.Error.Index = typ, reason, idx
	body.Error.RootCause = []errorCause{{Type: typ, Reason: reason, Index: idx}}
	body.Status = status
	if c.Method() == fiber.MethodHead {
		return c.SendStatus(status)
	}
	return c.Status(status).JSON(body)
}

// auditRefusal records 401s and 403s in the audit trail, and the other
// refusals of writes to the administration APIs (a malformed body). The
// admin service records its own refusals, with what was asked; this
// covers everything else.
func (s *Server) auditRefusal(c *fiber.Ctx, err error, status int, reason string) {
	if c.Locals(keySignInLimited) != nil {
		return // the sign-in limiter records its refusals, one per block
	}
	refusedWrite := status >= 400 && status < 500 && adminWrite(c)
	if status != fiber.StatusUnauthorized && status != fiber.StatusForbidden && !refusedWrite {
		return
	}
	var ae *admin.Error
	if errors.As(err, &ae) {
		return
	}
	action, outcome, actor := audit.ActionAccessDenied, audit.OutcomeDenied, ""
	switch status {
	case fiber.StatusUnauthorized:
		action, outcome = audit.ActionAuthFailed, audit.OutcomeFailure
	case fiber.StatusForbidden:
	default:
		action, outcome = audit.ActionAdminRefused, audit.OutcomeFailure
	}
	if user, ok := c.Locals(keySignIn).(string); ok {
		action, actor = audit.ActionSignIn, user
	}
	rec := s.authRecord(c, actor, action, outcome, status, reason)
	if cl := callerOf(c); cl != nil {
		rec.Actor, rec.ActorRoles = cl.principal.Name, cl.roles.Names()
	}
	if sc := scopeOf(c); sc != nil {
		rec.Tenant = sc.tenant.Name()
	}
	s.trail.Record(rec)
}

// adminWrite reports whether the request would change something through
// an administration API: Kestra's /api/v1 or OpenSearch Security's REST
// API, with a method other than GET or HEAD.
func adminWrite(c *fiber.Ctx) bool {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return false
	}
	p := c.Path()
	return strings.HasPrefix(p, "/api/v1/") || p == "/api/v1" || securityRoute(c)
}
