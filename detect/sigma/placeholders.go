package sigma

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/edr-lab/edr/internal/fsutil"
)

// LoadPlaceholders reads the values of %name% placeholders for the expand
// modifier from a YAML file that maps each name to a value or a list of
// values (values may use Sigma wildcards):
//
//	Administrators: ['adm_*', 'root']
//	DomainControllers: dc01
func LoadPlaceholders(path string) (map[string][]string, error) {
	data, err := fsutil.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw map[string]strList
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("placeholders %s: %w", path, err)
	}
	out := make(map[string][]string, len(raw))
	for k, v := range raw {
		if len(v) == 0 {
			return nil, fmt.Errorf("placeholders %s: %q has no value", path, k)
		}
		out[k] = v
	}
	return out, nil
}
