package awslocal

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// RDS statuses the stand-in reports.
const (
	rdsAvailable         = "available"
	rdsResettingPassword = "resetting-master-credentials"
	// maskedPassword is how RDS shows a pending master password.
	maskedPassword = "****"
)

// MasterPasswordOptions say how a master password change made with
// ModifyDBInstance or ModifyDBCluster reaches the database behind the
// instance or cluster.
type MasterPasswordOptions struct {
	// Delay is how long (real time, not the Clock) a change stays pending
	// before Apply runs: meanwhile the status is
	// resetting-master-credentials, PendingModifiedValues.MasterUserPassword
	// is "****", and another Modify* answers InvalidDBInstanceState
	// (InvalidDBClusterStateFault). The change stays pending while Apply
	// runs too, so a test can hold it there.
	Delay time.Duration `json:"delay,omitempty"`
	// Apply makes the change real, typically ALTER ROLE / ALTER USER as the
	// harness superuser. Nil records the change and applies nothing. An
	// error is logged (without the password) and ends the pending state,
	// as RDS returns to available; the database keeps its old password.
	Apply func(ctx context.Context, username, password string) error `json:"-"`
}

// xml returns the instance as DescribeDBInstances and ModifyDBInstance
// answer it. Caller holds s.mu.
func (i *DBInstance) xml() xmlInstance {
	x := xmlInstance{DBInstanceIdentifier: i.Identifier, DBInstanceArn: i.ARN, DBInstanceStatus: rdsAvailable, Engine: i.Engine,
		MasterUsername: i.MasterUsername, DBName: i.DBName, DBClusterIdentifier: i.DBClusterIdentifier, MasterUserSecret: masterSecret(i.MasterUserSecretARN)}
	x.Endpoint.Address, x.Endpoint.Port = i.Address, i.Port
	if i.pending {
		x.DBInstanceStatus = rdsResettingPassword
		x.PendingModifiedValues.MasterUserPassword = maskedPassword
	}
	return x
}

// xml returns the cluster as DescribeDBClusters and ModifyDBCluster answer
// it. Caller holds s.mu.
func (c *DBCluster) xml() xmlCluster {
	x := xmlCluster{DBClusterIdentifier: c.Identifier, DBClusterArn: c.ARN, Status: rdsAvailable, Engine: c.Engine,
		Endpoint: c.Endpoint, ReaderEndpoint: c.ReaderEndpoint, Port: c.Port, MasterUsername: c.MasterUsername, DatabaseName: c.DatabaseName,
		MasterUserSecret: masterSecret(c.MasterUserSecretARN)}
	if c.pending {
		x.Status = rdsResettingPassword
		x.PendingModifiedValues.MasterUserPassword = maskedPassword
	}
	return x
}

// modifyParams are the Modify* parameters the stand-in understands; any
// other is refused rather than silently ignored.
var modifyParams = map[string]bool{"Action": true, "Version": true, "MasterUserPassword": true, "ApplyImmediately": true}

// checkModify validates a Modify* request's parameters and the new master
// password, as RDS does before it changes anything.
func checkModify(action, idParam string, form url.Values, engine string) *queryError {
	for k := range form {
		if k != idParam && !modifyParams[k] {
			return &queryError{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("awslocal: %s supports only %s, MasterUserPassword and ApplyImmediately, not %s", action, idParam, k)}
		}
	}
	pw, ok := form["MasterUserPassword"]
	if !ok {
		return nil
	}
	return checkMasterPassword(pw[0], engine)
}

// checkMasterPassword applies RDS's master password rules: printable ASCII
// other than '/', '@', '"' and space; 8 characters at least; at most 41 for
// the MySQL family, 128 otherwise.
func checkMasterPassword(pw, engine string) *queryError {
	maxLen := 128
	if strings.Contains(engine, "mysql") || strings.Contains(engine, "mariadb") {
		maxLen = 41
	}
	for _, r := range pw {
		if r < 0x21 || r > 0x7e || strings.ContainsRune(`/@"`, r) {
			return &queryError{http.StatusBadRequest, "InvalidParameterValue", `The parameter MasterUserPassword is not a valid password. Only printable ASCII characters besides '/', '@', '"', ' ' may be used.`}
		}
	}
	if len(pw) < 8 || len(pw) > maxLen {
		return &queryError{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("The parameter MasterUserPassword is not a valid password because it is not between 8 and %d characters long.", maxLen)}
	}
	return nil
}

// modifyDBInstance answers ModifyDBInstance. Caller holds s.mu.
func (s *Server) modifyDBInstance(form url.Values) (any, string, *queryError) {
	id := form.Get("DBInstanceIdentifier")
	if id == "" {
		return nil, rdsNS, &queryError{http.StatusBadRequest, "MissingParameter", "The request must contain the parameter DBInstanceIdentifier"}
	}
	var inst *DBInstance
	for _, i := range s.instances {
		if id == i.Identifier || id == i.ARN {
			inst = i
		}
	}
	if inst == nil {
		return nil, rdsNS, &queryError{http.StatusNotFound, "DBInstanceNotFound", fmt.Sprintf("DBInstance %s not found.", id)}
	}
	if qerr := checkModify("ModifyDBInstance", "DBInstanceIdentifier", form, inst.Engine); qerr != nil {
		return nil, rdsNS, qerr
	}
	if pw, ok := form["MasterUserPassword"]; ok {
		switch {
		case inst.DBClusterIdentifier != "":
			return nil, rdsNS, &queryError{http.StatusBadRequest, "InvalidParameterCombination", fmt.Sprintf("The DB instance %s is a member of DB cluster %s: modify the master user password of the cluster (ModifyDBCluster).", inst.Identifier, inst.DBClusterIdentifier)}
		case inst.MasterUserSecretARN != "":
			return nil, rdsNS, &queryError{http.StatusBadRequest, "InvalidParameterCombination", fmt.Sprintf("The master user password of DB instance %s is managed by RDS in Secrets Manager (ManageMasterUserPassword): it cannot be set with MasterUserPassword.", inst.Identifier)}
		case inst.pending:
			return nil, rdsNS, &queryError{http.StatusBadRequest, "InvalidDBInstanceState", "Database instance is not in available state."}
		}
		inst.pending = true
		s.applyMasterPassword("DB instance "+inst.Identifier, inst.MasterUsername, pw[0], inst.MasterPassword, func() { inst.pending = false })
	}
	return struct {
		XMLName  xml.Name    `xml:"r"`
		Instance xmlInstance `xml:"DBInstance"`
	}{Instance: inst.xml()}, rdsNS, nil
}

// modifyDBCluster answers ModifyDBCluster. Caller holds s.mu.
func (s *Server) modifyDBCluster(form url.Values) (any, string, *queryError) {
	id := form.Get("DBClusterIdentifier")
	if id == "" {
		return nil, rdsNS, &queryError{http.StatusBadRequest, "MissingParameter", "The request must contain the parameter DBClusterIdentifier"}
	}
	var cl *DBCluster
	for _, c := range s.clusters {
		if id == c.Identifier || id == c.ARN {
			cl = c
		}
	}
	if cl == nil {
		return nil, rdsNS, &queryError{http.StatusNotFound, "DBClusterNotFoundFault", fmt.Sprintf("DBCluster %s not found.", id)}
	}
	if qerr := checkModify("ModifyDBCluster", "DBClusterIdentifier", form, cl.Engine); qerr != nil {
		return nil, rdsNS, qerr
	}
	if pw, ok := form["MasterUserPassword"]; ok {
		switch {
		case cl.MasterUserSecretARN != "":
			return nil, rdsNS, &queryError{http.StatusBadRequest, "InvalidParameterCombination", fmt.Sprintf("The master user password of DB cluster %s is managed by RDS in Secrets Manager (ManageMasterUserPassword): it cannot be set with MasterUserPassword.", cl.Identifier)}
		case cl.pending:
			return nil, rdsNS, &queryError{http.StatusBadRequest, "InvalidDBClusterStateFault", "DB cluster is not in available state."}
		}
		cl.pending = true
		s.applyMasterPassword("DB cluster "+cl.Identifier, cl.MasterUsername, pw[0], cl.MasterPassword, func() { cl.pending = false })
	}
	return struct {
		XMLName xml.Name   `xml:"r"`
		Cluster xmlCluster `xml:"DBCluster"`
	}{Cluster: cl.xml()}, rdsNS, nil
}

// applyMasterPassword applies a pending master password change in the
// background after o.Delay and then calls done under s.mu. Caller holds
// s.mu. The password is never logged.
func (s *Server) applyMasterPassword(what, user, password string, o MasterPasswordOptions, done func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTimer(o.Delay)
		defer t.Stop()
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		var err error
		if o.Apply != nil {
			err = o.Apply(s.ctx, user, password)
		}
		s.mu.Lock()
		done()
		s.mu.Unlock()
		if err != nil {
			s.log.Error("master password change failed; the database keeps its old password", "resource", what, "user", user, "error", err.Error())
			return
		}
		s.log.Info("master password change applied", "resource", what, "user", user, "applied", o.Apply != nil)
	}()
}

// AddRDSManagedSecret creates the secret RDS keeps for a master password it
// manages (ManageMasterUserPassword) on the instance or cluster rdsARN, as
// RDS creates it: named rds!db-<uuid> or rds!cluster-<uuid>, OwningService
// "rds", a {"username","password"} document, and the aws:rds:* and
// aws:secretsmanager:owningService tags that CreateSecret refuses to
// callers. It returns the secret's ARN. RDS's own rotation of it is not
// simulated.
func (s *Server) AddRDSManagedSecret(rdsARN, username, password string) (string, error) {
	kind, tag := "db", "aws:rds:primaryDBInstanceArn"
	if strings.Contains(rdsARN, ":cluster:") {
		kind, tag = "cluster", "aws:rds:primaryDBClusterArn"
	}
	body, err := json.Marshal(map[string]string{"username": username, "password": password})
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	name := "rds!" + kind + "-" + newUUID()
	now := s.clock.Now()
	str := string(body)
	sec := &secret{
		ARN:  fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", s.opts.Region, s.opts.Account, name, randomString(6, alnum)),
		Name: name, Created: now, LastChanged: now, OwningService: "rds", Tagged: true,
		Tags: []Tag{{Key: tag, Value: rdsARN}, {Key: "aws:secretsmanager:owningService", Value: "rds"}},
	}
	sec.Versions = append(sec.Versions, &version{ID: newUUID(), String: &str, HasValue: true, Stages: []string{LabelCurrent}, Created: now})
	s.addSecret(sec)
	s.secretsChanged(sec)
	return sec.ARN, nil
}
