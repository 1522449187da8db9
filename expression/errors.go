package expression

import "errors"

// ErrInvalid means a template is not valid: a syntax error. The message
// gives the line and column.
var ErrInvalid = errors.New("invalid expression")

// ErrRender means a valid template failed to render: an undefined
// variable, a function that failed, a value of the wrong type, or the
// output limit. Errors a function returned are wrapped too, so errors.Is
// finds them.
var ErrRender = errors.New("expression failed")
