package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// SecretDocument is the JSON object stored in a database secret's
// SecretString. Keys rotor does not know are kept in Extra and written back
// unchanged, as AWS's templates do, so applications that store more in the
// same secret keep it.
//
// Password is a secret: it never appears in an error, a log line or String.
type SecretDocument struct {
	Engine    string
	Host      string
	Port      int
	Username  string
	Password  string
	DBName    string
	MasterARN string
	// SSL is the document's "ssl" key as written: a JSON bool or string, or
	// nil when absent. See TLSMode.
	SSL json.RawMessage

	// Extra holds every other key, verbatim.
	Extra map[string]json.RawMessage

	portAsString bool
	// portGiven is set when the document has a "port" key, so that an
	// explicit 0 is refused rather than read as "the engine's default".
	portGiven bool
}

// ParseSecretDocument decodes a SecretString. It checks types only; call
// Validate for what a rotation needs. Errors name the key and never include
// the document's text.
func ParseSecretDocument(secretString string) (*SecretDocument, error) {
	raw, err := decodeObject(secretString, "SecretString", false)
	if err != nil {
		return nil, err
	}
	d := &SecretDocument{Extra: map[string]json.RawMessage{}}
	for k, v := range raw {
		d.Extra[k] = v
	}
	str := func(key string, dst *string) error {
		v, ok := raw[key]
		if !ok {
			return nil
		}
		delete(d.Extra, key)
		if string(v) == "null" {
			return nil
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return &FieldError{Field: key, Reason: "must be a string"}
		}
		return nil
	}
	// In a fixed order, so that a document with several bad keys is
	// always refused with the same error.
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"engine", &d.Engine}, {"host", &d.Host}, {"username", &d.Username},
		{"password", &d.Password}, {"dbname", &d.DBName}, {"masterarn", &d.MasterARN},
	} {
		if err := str(f.key, f.dst); err != nil {
			return nil, err
		}
	}
	if v, ok := raw["port"]; ok {
		delete(d.Extra, "port")
		port, asString, err := parsePort(v)
		if err != nil {
			return nil, err
		}
		// "port": null is no port, as it is for the other keys.
		d.Port, d.portAsString, d.portGiven = port, asString, string(v) != "null"
	}
	if v, ok := raw["ssl"]; ok {
		delete(d.Extra, "ssl")
		d.SSL = v
		if _, err := d.sslMode(); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// decodeObject decodes one JSON object into its members. A key that appears
// twice is refused: JSON decoders disagree on which value wins (Go's and
// Python's take the last, others the first), so a document whose meaning
// depends on the reader is malformed. With foldCase, keys that differ only
// in case count as the same key (encoding/json matches struct fields
// case-insensitively). what names the whole input in errors, which never
// quote the input.
func decodeObject(s, what string, foldCase bool) (map[string]json.RawMessage, error) {
	notObject := &FieldError{Field: what, Reason: "not a JSON object"}
	seen := map[string]bool{}
	dec := json.NewDecoder(strings.NewReader(s))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, notObject
	}
	raw := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, notObject
		}
		key, ok := tok.(string)
		if !ok {
			return nil, notObject
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, notObject
		}
		norm := key
		if foldCase {
			norm = strings.ToLower(key)
		}
		if seen[norm] && key == "" {
			return nil, &FieldError{Field: what, Reason: "the empty key appears more than once"}
		}
		if seen[norm] {
			return nil, &FieldError{Field: truncate(key, 40), Reason: "appears more than once in the " + what}
		}
		seen[norm] = true
		raw[key] = v
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, notObject
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &FieldError{Field: what, Reason: "trailing data after the JSON object"}
	}
	return raw, nil
}

func parsePort(v json.RawMessage) (port int, asString bool, err error) {
	if string(v) == "null" {
		return 0, false, nil
	}
	var n json.Number
	// json.Number also accepts a quoted number, so look at the first byte to
	// keep the port's JSON type.
	if v[0] != '"' && json.Unmarshal(v, &n) == nil {
		p, err := strconv.Atoi(n.String())
		if err != nil {
			return 0, false, &FieldError{Field: "port", Reason: "must be a whole number"}
		}
		return p, false, nil
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		p, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return 0, true, &FieldError{Field: "port", Reason: "must be a whole number"}
		}
		return p, true, nil
	}
	return 0, false, &FieldError{Field: "port", Reason: "must be a number or a numeric string"}
}

// Keys AWS's templates read to name the RDS instance or cluster a master
// secret belongs to. rotor keeps them in Extra; read them with ExtraString.
const (
	KeyDBInstanceIdentifier = "dbInstanceIdentifier"
	KeyDBClusterIdentifier  = "dbClusterIdentifier"
)

// ExtraString returns the string value of a key kept in Extra, or "" when
// the key is absent or null. Any other JSON type is a FieldError naming the
// key.
func (d *SecretDocument) ExtraString(key string) (string, error) {
	v, ok := d.Extra[key]
	if !ok || string(v) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", &FieldError{Field: key, Reason: "must be a string"}
	}
	return s, nil
}

// Limits Validate applies to a document's values, above any engine's own:
// names (user, host, database, engine) beyond 255 bytes are no database's
// (a DNS name is at most 253), and a password beyond 4096 bytes is longer
// than Secrets Manager's GetRandomPassword makes.
const (
	MaxNameLength     = 255
	MaxPasswordLength = 4096
)

// Requirement says what a document must hold for the use it is put to.
type Requirement int

const (
	// NeedConnection: engine, host, username and password (a user secret).
	NeedConnection Requirement = iota
	// NeedCredentials: username and password only (an RDS-managed master
	// secret, whose connection details come from RDS).
	NeedCredentials
)

// Validate checks that the document holds what req asks for and that every
// present value is well formed. It fills nothing in and does not judge the
// engine's name: the engine registry (strategies/engine) does, and applies
// the engine's defaults.
func (d *SecretDocument) Validate(req Requirement) error {
	if d.Username == "" {
		return &FieldError{Field: "username", Reason: "missing or empty"}
	}
	if d.Password == "" {
		return &FieldError{Field: "password", Reason: "missing or empty"}
	}
	for _, f := range []struct {
		key, v string
		max    int
	}{
		{"username", d.Username, MaxNameLength}, {"password", d.Password, MaxPasswordLength},
		{"host", d.Host, MaxNameLength}, {"dbname", d.DBName, MaxNameLength},
		{"engine", d.Engine, MaxNameLength}, {"masterarn", d.MasterARN, MaxSecretIDLength},
	} {
		if len(f.v) > f.max {
			return &FieldError{Field: f.key, Reason: fmt.Sprintf("%d bytes, longer than %d", len(f.v), f.max)}
		}
		if strings.ContainsRune(f.v, 0) {
			return &FieldError{Field: f.key, Reason: "contains a NUL byte, which no database or AWS name accepts"}
		}
	}
	if (d.portGiven || d.Port != 0) && (d.Port < 1 || d.Port > 65535) {
		return &FieldError{Field: "port", Reason: fmt.Sprintf("%d is out of range 1-65535", d.Port)}
	}
	if req == NeedCredentials {
		return nil
	}
	if d.Engine == "" {
		return &FieldError{Field: "engine", Reason: "missing"}
	}
	if d.Host == "" {
		return &FieldError{Field: "host", Reason: "missing or empty"}
	}
	if strings.ContainsAny(d.Host, " /\x00") {
		return &FieldError{Field: "host", Reason: "not a host name or address"}
	}
	return nil
}

// TLS modes, strongest first.
const (
	TLSVerifyFull = "verify-full"
	TLSRequire    = "require"
	TLSDisable    = "disable"
)

// TLSMode returns the TLS mode the document asks for, or "" when it does not
// say (the function's setting then applies).
//
// The "ssl" key is read as AWS's templates write it, as a bool or a string:
// true asks for verify-full; false is an explicit opt-out ("disable"); the
// strings "verify-full", "require" and "disable" name a mode directly.
// rotor never falls back from one mode to a weaker one on its own.
func (d *SecretDocument) TLSMode() string {
	m, _ := d.sslMode()
	return m
}

func (d *SecretDocument) sslMode() (string, error) {
	if len(d.SSL) == 0 || string(d.SSL) == "null" {
		return "", nil
	}
	var b bool
	if json.Unmarshal(d.SSL, &b) == nil {
		if b {
			return TLSVerifyFull, nil
		}
		return TLSDisable, nil
	}
	var s string
	if json.Unmarshal(d.SSL, &s) == nil {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1", "y", "yes", TLSVerifyFull:
			return TLSVerifyFull, nil
		case "false", "0", "n", "no", TLSDisable:
			return TLSDisable, nil
		case TLSRequire:
			return TLSRequire, nil
		}
		return "", &FieldError{Field: "ssl", Reason: fmt.Sprintf("unknown value %q (want true, false, verify-full, require or disable)", truncate(s, 20))}
	}
	return "", &FieldError{Field: "ssl", Reason: "must be a bool or a string"}
}

// Clone returns a deep copy.
func (d *SecretDocument) Clone() *SecretDocument {
	c := *d
	c.Extra = make(map[string]json.RawMessage, len(d.Extra))
	for k, v := range d.Extra {
		c.Extra[k] = append(json.RawMessage(nil), v...)
	}
	c.SSL = append(json.RawMessage(nil), d.SSL...)
	return &c
}

// MarshalJSON writes the document with keys in a stable order: the known
// keys first, then the extra ones sorted. Empty optional keys are left out.
func (d *SecretDocument) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	// Without HTML escaping: json.Marshal would rewrite "&" in an extra
	// value as "\u0026", and extra values are written back as they were
	// (whitespace aside).
	var item bytes.Buffer
	enc := json.NewEncoder(&item)
	enc.SetEscapeHTML(false)
	encode := func(v any) ([]byte, error) {
		item.Reset()
		if err := enc.Encode(v); err != nil {
			return nil, err
		}
		return bytes.TrimSuffix(item.Bytes(), []byte("\n")), nil
	}
	put := func(key string, v any) error {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		k, err := encode(key)
		if err != nil {
			return fmt.Errorf("encode key %q: %w", key, err)
		}
		buf.Write(k)
		buf.WriteByte(':')
		b, err := encode(v)
		if err != nil {
			return fmt.Errorf("encode %q: %w", key, err)
		}
		buf.Write(b)
		return nil
	}
	fields := []struct {
		key string
		v   any
		set bool
	}{
		{"engine", d.Engine, d.Engine != ""},
		{"host", d.Host, d.Host != ""},
		{"port", d.portValue(), d.Port != 0 || d.portGiven}, // an explicit 0 stays, so it is refused again
		{"username", d.Username, true},
		{"password", d.Password, true},
		{"dbname", d.DBName, d.DBName != ""},
		{"masterarn", d.MasterARN, d.MasterARN != ""},
		{"ssl", d.SSL, len(d.SSL) > 0},
	}
	for _, f := range fields {
		if !f.set {
			continue
		}
		if err := put(f.key, f.v); err != nil {
			return nil, err
		}
	}
	keys := make([]string, 0, len(d.Extra))
	for k := range d.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := put(k, d.Extra[k]); err != nil {
			return nil, err
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func (d *SecretDocument) portValue() any {
	if d.portAsString {
		return strconv.Itoa(d.Port)
	}
	return d.Port
}

// String describes the document without its password, for logs and errors.
// Absent keys stay absent: defaults are the engine's business.
func (d *SecretDocument) String() string {
	s := fmt.Sprintf("%s://%s@%s", d.Engine, d.Username, d.Host)
	if d.Port != 0 {
		s += ":" + strconv.Itoa(d.Port)
	}
	return s + "/" + d.DBName
}
