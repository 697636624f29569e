package awslocal

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	rdsNS = "http://rds.amazonaws.com/doc/2014-10-31/"
	snsNS = "http://sns.amazonaws.com/doc/2010-03-31/"
)

// DBInstance is an RDS DB instance DescribeDBInstances reports.
type DBInstance struct {
	Identifier string `json:"identifier"`
	// ARN defaults to arn:aws:rds:<region>:<account>:db:<Identifier>.
	ARN                 string `json:"arn,omitempty"`
	Engine              string `json:"engine"`
	Address             string `json:"address"`
	Port                int    `json:"port"`
	MasterUsername      string `json:"masterUsername,omitempty"`
	MasterUserSecretARN string `json:"masterUserSecretArn,omitempty"`
	DBName              string `json:"dbName,omitempty"`
	DBClusterIdentifier string `json:"dbClusterIdentifier,omitempty"`
	// MasterPassword says how ModifyDBInstance's MasterUserPassword
	// reaches the database (rds.go).
	MasterPassword MasterPasswordOptions `json:"masterPassword,omitzero"`

	pending bool // a master password change is pending
}

// DBCluster is an RDS DB cluster DescribeDBClusters reports.
type DBCluster struct {
	Identifier string `json:"identifier"`
	// ARN defaults to arn:aws:rds:<region>:<account>:cluster:<Identifier>.
	ARN                 string `json:"arn,omitempty"`
	Engine              string `json:"engine"`
	Endpoint            string `json:"endpoint"`
	ReaderEndpoint      string `json:"readerEndpoint,omitempty"`
	Port                int    `json:"port"`
	MasterUsername      string `json:"masterUsername,omitempty"`
	MasterUserSecretARN string `json:"masterUserSecretArn,omitempty"`
	DatabaseName        string `json:"databaseName,omitempty"`
	// MasterPassword says how ModifyDBCluster's MasterUserPassword reaches
	// the database (rds.go).
	MasterPassword MasterPasswordOptions `json:"masterPassword,omitzero"`

	pending bool // a master password change is pending
}

// AddDBInstance adds or replaces (by Identifier) a DB instance and returns
// its ARN.
func (s *Server) AddDBInstance(i DBInstance) string {
	if i.ARN == "" {
		i.ARN = fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", s.opts.Region, s.opts.Account, i.Identifier)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.instances[:0]
	for _, x := range s.instances {
		if x.Identifier != i.Identifier {
			out = append(out, x)
		}
	}
	s.instances = append(out, &i)
	s.mutated()
	return i.ARN
}

// AddDBCluster adds or replaces (by Identifier) a DB cluster and returns its
// ARN.
func (s *Server) AddDBCluster(c DBCluster) string {
	if c.ARN == "" {
		c.ARN = fmt.Sprintf("arn:aws:rds:%s:%s:cluster:%s", s.opts.Region, s.opts.Account, c.Identifier)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.clusters[:0]
	for _, x := range s.clusters {
		if x.Identifier != c.Identifier {
			out = append(out, x)
		}
	}
	s.clusters = append(out, &c)
	s.mutated()
	return c.ARN
}

// SNSMessage is one message published to a topic.
type SNSMessage struct {
	MessageID string    `json:"messageId"`
	TopicARN  string    `json:"topicArn"`
	Subject   string    `json:"subject,omitempty"`
	Message   string    `json:"message"`
	Time      time.Time `json:"time"`
}

// CreateTopic creates (idempotently) an SNS topic and returns its ARN.
func (s *Server) CreateTopic(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createTopic(name, s.opts.Region)
}

func (s *Server) createTopic(name, region string) string {
	arn := fmt.Sprintf("arn:aws:sns:%s:%s:%s", region, s.opts.Account, name)
	for _, t := range s.topics {
		if t == arn {
			return arn
		}
	}
	s.topics = append(s.topics, arn)
	s.mutated()
	return arn
}

// Published returns the SNS messages published so far, oldest first.
func (s *Server) Published() []SNSMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SNSMessage{}, s.published...)
}

type queryError struct {
	Status  int
	Code    string
	Message string
}

type xmlInstance struct {
	DBInstanceIdentifier string `xml:"DBInstanceIdentifier"`
	DBInstanceArn        string `xml:"DBInstanceArn"`
	DBInstanceStatus     string `xml:"DBInstanceStatus"`
	Engine               string `xml:"Engine"`
	MasterUsername       string `xml:"MasterUsername,omitempty"`
	DBName               string `xml:"DBName,omitempty"`
	DBClusterIdentifier  string `xml:"DBClusterIdentifier,omitempty"`
	Endpoint             struct {
		Address string `xml:"Address"`
		Port    int    `xml:"Port"`
	} `xml:"Endpoint"`
	MasterUserSecret      *xmlMasterSecret `xml:"MasterUserSecret,omitempty"`
	PendingModifiedValues xmlPending       `xml:"PendingModifiedValues"`
}

// xmlPending is PendingModifiedValues: RDS masks a pending master password
// as "****".
type xmlPending struct {
	MasterUserPassword string `xml:"MasterUserPassword,omitempty"`
}

type xmlMasterSecret struct {
	SecretArn    string `xml:"SecretArn"`
	SecretStatus string `xml:"SecretStatus"`
}

type xmlCluster struct {
	DBClusterIdentifier   string           `xml:"DBClusterIdentifier"`
	DBClusterArn          string           `xml:"DBClusterArn"`
	Status                string           `xml:"Status"`
	Engine                string           `xml:"Engine"`
	Endpoint              string           `xml:"Endpoint"`
	ReaderEndpoint        string           `xml:"ReaderEndpoint,omitempty"`
	Port                  int              `xml:"Port"`
	MasterUsername        string           `xml:"MasterUsername,omitempty"`
	DatabaseName          string           `xml:"DatabaseName,omitempty"`
	MasterUserSecret      *xmlMasterSecret `xml:"MasterUserSecret,omitempty"`
	PendingModifiedValues xmlPending       `xml:"PendingModifiedValues"`
}

func masterSecret(arn string) *xmlMasterSecret {
	if arn == "" {
		return nil
	}
	return &xmlMasterSecret{SecretArn: arn, SecretStatus: "active"}
}

// serveQuery answers awsQuery requests: RDS DescribeDBInstances,
// DescribeDBClusters, ModifyDBInstance and ModifyDBCluster, SNS CreateTopic
// and Publish.
func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, form url.Values) {
	action := form.Get("Action")
	region := regionOf(r, s.opts.Region)
	s.mu.Lock()
	s.stats[action]++
	delay, fault := s.injectedFault(action, "")
	if delay > 0 {
		s.mu.Unlock()
		sleepCtx(r.Context(), delay)
		s.mu.Lock()
	}
	var (
		result any
		ns     string
		qerr   *queryError
	)
	if fault != nil {
		ns, qerr = queryNamespace(action), s.queryFault(fault, action)
	} else {
		result, ns, qerr = s.query(action, form, region)
	}
	s.mu.Unlock()
	s.log.Info("query", "action", action, "error", func() string {
		if qerr != nil {
			return qerr.Code
		}
		return ""
	}())
	reqID := newUUID()
	w.Header().Set("Content-Type", "text/xml")
	if qerr != nil {
		if ns == "" {
			ns = rdsNS
		}
		// The Query protocol's fault type: the service's own failure
		// (5xx) is Receiver's, a refused request Sender's.
		typ := "Sender"
		if qerr.Status >= 500 {
			typ = "Receiver"
		}
		w.WriteHeader(qerr.Status)
		fmt.Fprintf(w, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			ns, typ, xmlEscape(qerr.Code), xmlEscape(qerr.Message), reqID)
		return
	}
	body, err := xml.Marshal(result)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, `<%sResponse xmlns="%s"><%sResult>%s</%sResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`,
		action, ns, action, innerXML(body), action, reqID, action)
}

// queryActions are the Query-protocol actions the stand-in answers.
var queryActions = map[string]bool{"DescribeDBInstances": true, "DescribeDBClusters": true, "ModifyDBInstance": true, "ModifyDBCluster": true, "CreateTopic": true, "Publish": true}

// queryNamespace is the XML namespace of an action's answers.
func queryNamespace(action string) string {
	if action == "CreateTopic" || action == "Publish" {
		return snsNS
	}
	return rdsNS
}

// queryFault is an injected fault as RDS and SNS answer it: throttling is
// RDS's "Throttling" (HTTP 400) or SNS's "Throttled" (HTTP 429), a server
// error "InternalFailure", a denial "AccessDenied" (HTTP 403).
func (s *Server) queryFault(f *apiError, action string) *queryError {
	switch f.Code {
	case codeThrottling:
		if queryNamespace(action) == snsNS {
			// SNS's own throttling error (its API reference: Throttled,
			// HTTP 429).
			return &queryError{http.StatusTooManyRequests, "Throttled", "Rate exceeded"}
		}
		return &queryError{http.StatusBadRequest, "Throttling", "Rate exceeded"}
	case codeAccessDenied:
		svc := "rds"
		if queryNamespace(action) == snsNS {
			svc = "sns"
		}
		return &queryError{http.StatusForbidden, "AccessDenied", fmt.Sprintf("User: arn:aws:sts::%s:assumed-role/awslocal/caller is not authorized to perform: %s:%s because no identity-based policy allows the %s:%s action", s.opts.Account, svc, action, svc, action)}
	}
	return &queryError{f.Status, "InternalFailure", "An internal error has occurred."}
}

// innerXML strips the wrapper element xml.Marshal put around the result.
func innerXML(b []byte) string {
	s := string(b)
	i := strings.Index(s, ">")
	j := strings.LastIndex(s, "</")
	if i < 0 || j < i {
		return ""
	}
	return s[i+1 : j]
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// RDS's describe paging: MaxRecords is 20 to 100, default 100.
const (
	rdsMinRecords = 20
	rdsMaxRecords = 100
	markerPrefix  = "awslocal-next:"
)

// describeRDS answers DescribeDBInstances or DescribeDBClusters over rs:
// the resource id names (its identifier or ARN; RDS's notFound code when
// none), or a page of all of them (rdsPage). names gives a resource's
// identifier and ARN, view its XML.
func describeRDS[R, X any](form url.Values, id string, rs []R, names func(R) (string, string), view func(R) X, notFound, kind string) ([]X, string, *queryError) {
	var match []R
	var ids []string
	for _, r := range rs {
		if ident, arn := names(r); id == "" || id == ident || id == arn {
			match, ids = append(match, r), append(ids, ident)
		}
	}
	if id != "" && len(ids) == 0 {
		return nil, "", &queryError{http.StatusNotFound, notFound, fmt.Sprintf("%s %s not found.", kind, id)}
	}
	from, to, marker, qerr := rdsPage(form, ids)
	if qerr != nil {
		return nil, "", qerr
	}
	out := make([]X, 0, to-from)
	for _, r := range match[from:to] {
		out = append(out, view(r))
	}
	return out, marker, nil
}

// rdsPage picks one page of a describe answer as RDS does (MaxRecords,
// Marker). ids are the identifiers of the matching resources, in the order
// they are answered in: the page is ids[from:to], marker is what names the
// next page ("" at the end). A marker names the first resource of its page; one naming no
// resource (it was deleted, or is not a marker) is refused.
func rdsPage(form url.Values, ids []string) (from, to int, marker string, qerr *queryError) {
	limit := rdsMaxRecords
	if v := form.Get("MaxRecords"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < rdsMinRecords || n > rdsMaxRecords {
			return 0, 0, "", &queryError{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("Invalid value %s for MaxRecords. Must be between %d and %d", v, rdsMinRecords, rdsMaxRecords)}
		}
		limit = n
	}
	if m := form.Get("Marker"); m != "" {
		next, ok := strings.CutPrefix(m, markerPrefix)
		from = slices.Index(ids, next)
		if !ok || from < 0 {
			return 0, 0, "", &queryError{http.StatusBadRequest, "InvalidParameterValue", "The marker is not valid."}
		}
	}
	to = min(from+limit, len(ids))
	if to < len(ids) {
		marker = markerPrefix + ids[to]
	}
	return from, to, marker, nil
}

// query runs one action under s.mu.
func (s *Server) query(action string, form url.Values, region string) (any, string, *queryError) {
	switch action {
	case "DescribeDBInstances":
		var res struct {
			XMLName   xml.Name      `xml:"r"`
			Marker    string        `xml:"Marker,omitempty"`
			Instances []xmlInstance `xml:"DBInstances>DBInstance"`
		}
		var qerr *queryError
		res.Instances, res.Marker, qerr = describeRDS(form, form.Get("DBInstanceIdentifier"), s.instances,
			func(i *DBInstance) (string, string) { return i.Identifier, i.ARN }, (*DBInstance).xml, "DBInstanceNotFound", "DBInstance")
		if qerr != nil {
			return nil, rdsNS, qerr
		}
		return res, rdsNS, nil
	case "DescribeDBClusters":
		var res struct {
			XMLName  xml.Name     `xml:"r"`
			Marker   string       `xml:"Marker,omitempty"`
			Clusters []xmlCluster `xml:"DBClusters>DBCluster"`
		}
		var qerr *queryError
		res.Clusters, res.Marker, qerr = describeRDS(form, form.Get("DBClusterIdentifier"), s.clusters,
			func(c *DBCluster) (string, string) { return c.Identifier, c.ARN }, (*DBCluster).xml, "DBClusterNotFoundFault", "DBCluster")
		if qerr != nil {
			return nil, rdsNS, qerr
		}
		return res, rdsNS, nil
	case "ModifyDBInstance":
		return s.modifyDBInstance(form)
	case "ModifyDBCluster":
		return s.modifyDBCluster(form)
	case "CreateTopic":
		name := form.Get("Name")
		if name == "" {
			return nil, snsNS, &queryError{http.StatusBadRequest, "InvalidParameter", "Invalid parameter: Topic Name"}
		}
		return struct {
			XMLName  xml.Name `xml:"r"`
			TopicArn string   `xml:"TopicArn"`
		}{TopicArn: s.createTopic(name, region)}, snsNS, nil
	case "Publish":
		topic := form.Get("TopicArn")
		if topic == "" {
			topic = form.Get("TargetArn")
		}
		if form.Get("Message") == "" {
			return nil, snsNS, &queryError{http.StatusBadRequest, "InvalidParameter", "Invalid parameter: Empty message"}
		}
		found := false
		for _, t := range s.topics {
			found = found || t == topic
		}
		if !found {
			return nil, snsNS, &queryError{http.StatusNotFound, "NotFound", "Topic does not exist"}
		}
		m := SNSMessage{MessageID: newUUID(), TopicARN: topic, Subject: form.Get("Subject"), Message: form.Get("Message"), Time: s.clock.Now()}
		s.published = append(s.published, m)
		return struct {
			XMLName   xml.Name `xml:"r"`
			MessageId string   `xml:"MessageId"`
		}{MessageId: m.MessageID}, snsNS, nil
	}
	return nil, "", &queryError{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("The action %s is not valid for this endpoint.", action)}
}
