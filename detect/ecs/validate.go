package ecs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Field is one ECS field definition from ecs_flat.yml.
type Field struct {
	Name     string
	Type     string   // keyword, long, date, ip, object, nested, flattened, …
	Array    bool     // normalize: [array]
	Allowed  []string // allowed_values names, when ECS restricts them
	Required bool
}

// Schema is the set of ECS fields of one ECS release.
type Schema struct {
	fields   map[string]*Field
	prefixes map[string]bool // every proper dotted prefix of a field name
}

type flatField struct {
	FlatName      string   `yaml:"flat_name"`
	Type          string   `yaml:"type"`
	Normalize     []string `yaml:"normalize"`
	Required      bool     `yaml:"required"`
	AllowedValues []struct {
		Name string `yaml:"name"`
	} `yaml:"allowed_values"`
}

// LoadSchema reads ECS's generated ecs_flat.yml.
func LoadSchema(path string) (*Schema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseSchema(data)
}

// ParseSchema parses the contents of ecs_flat.yml.
func ParseSchema(data []byte) (*Schema, error) {
	var raw map[string]flatField
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("ecs_flat.yml: %w", err)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("ecs_flat.yml: no field definitions")
	}
	s := &Schema{fields: make(map[string]*Field, len(raw)), prefixes: map[string]bool{}}
	for name, f := range raw {
		if f.Type == "" {
			return nil, fmt.Errorf("ecs_flat.yml: field %s has no type", name)
		}
		fd := &Field{Name: name, Type: f.Type, Required: f.Required}
		for _, n := range f.Normalize {
			fd.Array = fd.Array || n == "array"
		}
		for _, a := range f.AllowedValues {
			fd.Allowed = append(fd.Allowed, a.Name)
		}
		s.fields[name] = fd
		for i := 0; i < len(name); i++ {
			if name[i] == '.' {
				s.prefixes[name[:i]] = true
			}
		}
	}
	return s, nil
}

// Field returns the definition of a flat field name.
func (s *Schema) Field(name string) (*Field, bool) {
	f, ok := s.fields[name]
	return f, ok
}

// Len is the number of fields.
func (s *Schema) Len() int { return len(s.fields) }

// Validator checks documents against a Schema. Top-level keys listed in
// Custom are custom namespaces and are not checked.
type Validator struct {
	Schema *Schema
	Custom []string
}

// ValidateLine checks one NDJSON line: it must be a single JSON object whose
// every field outside the custom namespaces exists in ECS with a compatible
// type and, where ECS restricts them, an allowed value. It returns every
// problem found, sorted.
func (v *Validator) ValidateLine(line []byte) []error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return []error{fmt.Errorf("not JSON: %w", err)}
	}
	if dec.More() {
		return []error{fmt.Errorf("more than one JSON value on the line")}
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return []error{fmt.Errorf("line is not a JSON object")}
	}
	var errs []string
	v.walkObject("", obj, &errs)
	for name, f := range v.Schema.fields {
		if f.Required && !hasPath(obj, name) {
			errs = append(errs, fmt.Sprintf("%s: required field missing", name))
		}
	}
	sort.Strings(errs)
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = fmt.Errorf("%s", e)
	}
	return out
}

func (v *Validator) custom(key string) bool {
	for _, c := range v.Custom {
		if c == key {
			return true
		}
	}
	return false
}

func (v *Validator) walkObject(prefix string, obj map[string]any, errs *[]string) {
	for key, val := range obj {
		if strings.Contains(key, ".") {
			*errs = append(*errs, fmt.Sprintf("%s%s: dotted key (documents must be nested)", prefix, key))
			continue
		}
		if prefix == "" && v.custom(key) {
			continue
		}
		v.walkField(prefix+key, val, errs)
	}
}

func (v *Validator) walkField(path string, val any, errs *[]string) {
	f, ok := v.Schema.fields[path]
	if !ok {
		if sub, isObj := val.(map[string]any); isObj && v.Schema.prefixes[path] {
			v.walkObject(path+".", sub, errs)
			return
		}
		*errs = append(*errs, fmt.Sprintf("%s: not an ECS field", path))
		return
	}
	switch f.Type {
	case "object", "nested":
		v.walkContainer(f, path, val, errs)
	case "flattened":
		if _, isObj := val.(map[string]any); !isObj {
			*errs = append(*errs, fmt.Sprintf("%s: %s field needs an object, got %s", path, f.Type, kind(val)))
		}
	default:
		if arr, isArr := val.([]any); isArr {
			for _, el := range arr {
				v.checkLeaf(f, path, el, errs)
			}
			return
		}
		v.checkLeaf(f, path, val, errs)
	}
}

// walkContainer checks an object/nested field: an object or an array of
// objects whose keys are ECS sub-fields (any keys when ECS defines none,
// as for labels).
func (v *Validator) walkContainer(f *Field, path string, val any, errs *[]string) {
	objs := []any{val}
	if arr, isArr := val.([]any); isArr {
		objs = arr
	}
	for _, o := range objs {
		m, isObj := o.(map[string]any)
		if !isObj {
			*errs = append(*errs, fmt.Sprintf("%s: %s field needs an object, got %s", path, f.Type, kind(o)))
			continue
		}
		if !v.Schema.prefixes[path] {
			v.checkLabels(path, m, errs)
			continue
		}
		v.walkObject(path+".", m, errs)
	}
}

// checkLabels accepts free keys with scalar values (ECS labels).
func (v *Validator) checkLabels(path string, m map[string]any, errs *[]string) {
	for k, x := range m {
		switch x.(type) {
		case map[string]any, []any:
			*errs = append(*errs, fmt.Sprintf("%s.%s: nested value in a free-form object", path, k))
		}
	}
}

func (v *Validator) checkLeaf(f *Field, path string, val any, errs *[]string) {
	if err := leafTypeError(f.Type, val); err != "" {
		*errs = append(*errs, fmt.Sprintf("%s: ECS type %s: %s", path, f.Type, err))
		return
	}
	if len(f.Allowed) > 0 {
		s, _ := val.(string)
		for _, a := range f.Allowed {
			if a == s {
				return
			}
		}
		*errs = append(*errs, fmt.Sprintf("%s: value %q not among ECS allowed values", path, s))
	}
}

func leafTypeError(typ string, val any) string {
	switch typ {
	case "keyword", "wildcard", "constant_keyword", "match_only_text", "text":
		if _, ok := val.(string); !ok {
			return "needs a string, got " + kind(val)
		}
	case "long", "integer", "short", "byte", "unsigned_long":
		n, ok := val.(json.Number)
		if !ok {
			return "needs an integer, got " + kind(val)
		}
		if _, err := n.Int64(); err != nil && typ != "unsigned_long" {
			return "needs an integer, got " + n.String()
		}
	case "float", "double", "scaled_float", "half_float":
		n, ok := val.(json.Number)
		if !ok {
			return "needs a number, got " + kind(val)
		}
		if _, err := n.Float64(); err != nil {
			return "needs a number, got " + n.String()
		}
	case "boolean":
		if _, ok := val.(bool); !ok {
			return "needs a boolean, got " + kind(val)
		}
	case "date":
		s, ok := val.(string)
		if !ok {
			return "needs an RFC 3339 date string, got " + kind(val)
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return fmt.Sprintf("needs an RFC 3339 date, got %q", s)
		}
	case "ip":
		s, ok := val.(string)
		if !ok {
			return "needs an IP address string, got " + kind(val)
		}
		if _, err := netip.ParseAddr(s); err != nil {
			return fmt.Sprintf("needs an IP address, got %q", s)
		}
	case "geo_point":
		switch val.(type) {
		case string, map[string]any:
		default:
			return "needs a geo point, got " + kind(val)
		}
	default:
		return "unsupported ECS type " + typ
	}
	return ""
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func hasPath(obj map[string]any, path string) bool {
	cur := any(obj)
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}
