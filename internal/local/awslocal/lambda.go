package awslocal

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// serveInvoke answers Lambda's Invoke API (POST
// /2015-03-31/functions/<name-or-arn>/invocations) for registered
// functions, so SDK and CLI Invoke calls reach them. A function error is
// answered as Lambda does: HTTP 200, X-Amz-Function-Error: Unhandled, the
// errorMessage/errorType document as the body.
//
// GET /2015-03-31/functions/<name-or-arn>/configuration is
// GetFunctionConfiguration (serveFunctionConfiguration).
func (s *Server) serveInvoke(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.EscapedPath(), "/2015-03-31/functions/")
	if name, ok := strings.CutSuffix(rest, "/configuration"); ok && r.Method == http.MethodGet {
		s.serveFunctionConfiguration(w, name)
		return
	}
	name, ok := strings.CutSuffix(rest, "/invocations")
	if !ok || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	name, _ = url.PathUnescape(name)
	if q := r.URL.Query().Get("Qualifier"); q != "" {
		name = strings.TrimSuffix(name, ":"+q)
	}
	s.mu.Lock()
	s.stats["Invoke"]++
	inv, arn := s.function(name)
	s.mu.Unlock()
	lambdaErr := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", code)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
	}
	if inv == nil {
		lambdaErr(http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+name)
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, 6<<20))
	if err != nil {
		lambdaErr(http.StatusBadRequest, "InvalidRequestContentException", "Could not read the request body.")
		return
	}
	s.log.Info("lambda invoke", "function", arn)
	out, err := inv.Invoke(r.Context(), payload)
	var fe *FunctionError
	switch {
	case errors.As(err, &fe):
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(w).Encode(fe)
	case err != nil:
		lambdaErr(http.StatusBadGateway, "ServiceException", "The function could not be invoked.")
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		_, _ = w.Write(out)
	}
}
