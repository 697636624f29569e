package rotation

import "sync"

// versionCache keeps secret values this warm container has read or written,
// keyed by secret ARN and VersionId. A version's value never changes once
// written (Secrets Manager refuses a second write with different data), so a
// hit is always the value the service holds. It keeps the two most recent
// versions per secret and a bounded number of secrets, so values do not
// linger past the rotation that needed them.
type versionCache struct {
	mu      sync.Mutex
	secrets map[string][]cachedVersion
	order   []string
}

type cachedVersion struct {
	id, value string
}

const (
	cacheVersionsPerSecret = 2
	cacheSecrets           = 64
)

func newVersionCache() *versionCache {
	return &versionCache{secrets: map[string][]cachedVersion{}}
}

func (c *versionCache) get(arn, versionID string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range c.secrets[arn] {
		if v.id == versionID {
			return v.value, true
		}
	}
	return "", false
}

func (c *versionCache) put(arn, versionID, value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	vs, known := c.secrets[arn]
	for _, v := range vs {
		if v.id == versionID {
			return
		}
	}
	vs = append(vs, cachedVersion{versionID, value})
	if len(vs) > cacheVersionsPerSecret {
		vs = vs[len(vs)-cacheVersionsPerSecret:]
	}
	c.secrets[arn] = vs
	if !known {
		c.order = append(c.order, arn)
		if len(c.order) > cacheSecrets {
			delete(c.secrets, c.order[0])
			c.order = c.order[1:]
		}
	}
}

// drop forgets one version, e.g. one found unusable.
func (c *versionCache) drop(arn, versionID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	vs := c.secrets[arn]
	for i, v := range vs {
		if v.id == versionID {
			c.secrets[arn] = append(vs[:i:i], vs[i+1:]...)
			return
		}
	}
}
