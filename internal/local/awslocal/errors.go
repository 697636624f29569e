package awslocal

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// apiError is an error answered on the wire in the awsJson1.1 shape
// {"__type": Code, "Message": Message}.
type apiError struct {
	Code    string
	Message string
	Status  int
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errf(code, format string, args ...any) *apiError {
	status := http.StatusBadRequest
	if code == "InternalServiceError" {
		status = http.StatusInternalServerError
	}
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...), Status: status}
}

// Error codes Secrets Manager answers.
const (
	codeNotFound         = "ResourceNotFoundException"
	codeExists           = "ResourceExistsException"
	codeInvalidRequest   = "InvalidRequestException"
	codeInvalidParameter = "InvalidParameterException"
	codeValidation       = "ValidationException"
	codeAccessDenied     = "AccessDeniedException"
	codeLimitExceeded    = "LimitExceededException"
	codeInternal         = "InternalServiceError"
	codeUnknownOperation = "UnknownOperationException"
	codeSerialization    = "SerializationException"
	codeThrottling       = "ThrottlingException"
)

// Recorded messages.
const (
	msgSecretNotFound  = "Secrets Manager can't find the specified secret."
	msgMarkedDeleted   = "You can't perform this operation on the secret because it was marked for deletion."
	msgStageNotOnVer   = "You provided a VersionStage that is not associated to the provided VersionId."
	msgNoFunction      = "No Lambda rotation function ARN is associated with this secret."
	msgRotationPending = "A previous rotation isn't complete. That rotation will be reattempted."
	msgNoToken         = "You must provide a ClientRequestToken value. We recommend a UUID-type value."
)

func errSecretNotFound() *apiError { return errf(codeNotFound, msgSecretNotFound) }

func writeJSONError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "Message": e.Message})
}
