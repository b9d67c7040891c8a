// Package ruleset loads the rule sets a detection run uses (Sigma, IOC and
// YARA, from files and directories) and builds an engine's matchers and
// file checks from them. edr replay, test, scan, live and bench load their
// rules through it, so every command reports the same load errors and
// summary.
package ruleset

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/filescan"
	"github.com/edr-lab/edr/detect/ioc"
	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/detect/yara"
)

// Options say which rules a run loads.
type Options struct {
	SigmaPaths []string // files or directories; none: no Sigma
	YARAPaths  []string // files or directories; none: no YARA
	IOC        ioc.Paths
	// IOCSeverity is ioc.default_severity (default high).
	IOCSeverity detect.Severity
	MatchDebug  detect.MatchDebug
	// SigmaRuleset names the Sigma rule set in alerts (rule.ruleset).
	SigmaRuleset string
	// Allowlists and size cap of the file checks (effective lists, see
	// allowlist.Effective).
	HashAllowlist, YARAAllowlist []string
	MaxFileBytes                 int64
	// SigmaSecurityAudit and SigmaPlaceholders are sigma.Options
	// SecurityAudit and Placeholders (scanner.sigma_security_audit,
	// scanner.sigma_placeholders_path).
	SigmaSecurityAudit bool
	// SigmaSecurityAuditAuto is sigma.Options.SecurityAuditAuto
	// (scanner.sigma_security_audit = "auto"): audit views apply per host
	// as CoverAudit says.
	SigmaSecurityAuditAuto bool
	SigmaPlaceholders      map[string][]string
	// YARAWorkers is how many YARA scans may run at once (0: 1; replay
	// scans from one goroutine, edr scan from one per CPU).
	YARAWorkers int
}

// Set is the loaded rule sets of a run.
type Set struct {
	Sigma *sigma.Ruleset
	IOC   *ioc.Set
	YARA  *yara.Rules
	// Errors are the rules and indicators that did not load, each naming
	// its file (and line or construct); the rest loaded.
	Errors []error

	yaraScanner *yara.Scanner
	opts        Options
}

// Load loads every configured rule set. Bad rules are collected in
// Set.Errors and skipped; an error is returned only when a configured set
// loaded nothing at all.
func Load(o Options) (*Set, error) {
	if o.IOCSeverity == detect.SeverityNone {
		o.IOCSeverity = detect.SeverityHigh
	}
	r := &Set{opts: o}
	var sigmaPaths []string
	for _, p := range o.SigmaPaths {
		if ext := strings.ToLower(filepath.Ext(p)); ext == ".yar" || ext == ".yara" {
			// never parsed as YAML (a false Sigma error)
			r.Errors = append(r.Errors, fmt.Errorf("%s: a YARA file given as a Sigma rule; not loaded (give it as a YARA rule)", p))
			continue
		}
		sigmaPaths = append(sigmaPaths, p)
	}
	if len(o.SigmaPaths) > 0 {
		rs, errs := sigma.Load(sigmaPaths, sigma.Options{Ruleset: o.SigmaRuleset, Debug: o.MatchDebug != detect.MatchDebugOff,
			SecurityAudit: o.SigmaSecurityAudit, SecurityAuditAuto: o.SigmaSecurityAuditAuto, Placeholders: o.SigmaPlaceholders})
		for _, e := range errs {
			r.Errors = append(r.Errors, e)
		}
		if len(rs.Rules()) == 0 {
			// name the first few reasons: with every rule failing, the
			// cause is usually one (a wrong path, a FIFO, a YAML error)
			return nil, fmt.Errorf("no Sigma rule loaded from %v (%d errors): %w", o.SigmaPaths, len(errs), errors.Join(r.Errors[:min(len(r.Errors), 3)]...))
		}
		r.Sigma = rs
	}
	if p := o.IOC; p.Hashes != "" || p.IPs != "" || p.Domains != "" || p.PathsRegex != "" || len(p.Loki) > 0 {
		set, errs := ioc.Load(o.IOC, ioc.Options{})
		r.Errors = append(r.Errors, errs...)
		r.IOC = set
	}
	if len(o.YARAPaths) > 0 {
		if !yara.Available {
			r.Errors = append(r.Errors, fmt.Errorf("YARA rules %v not used: %w", o.YARAPaths, yara.ErrCompiledOut))
		} else {
			yr, errs := yara.Compile(o.YARAPaths, yara.CompileOptions{})
			r.Errors = append(r.Errors, errs...)
			if yr == nil {
				return nil, fmt.Errorf("no YARA rule compiled from %v: %w", o.YARAPaths, errors.Join(errs...))
			}
			sc, err := yara.NewScanner(yr, yara.ScannerOptions{Workers: max(o.YARAWorkers, 1)})
			if err != nil {
				return nil, fmt.Errorf("YARA scanner: %w", err)
			}
			r.YARA, r.yaraScanner = yr, sc
		}
	}
	return r, nil
}

// Options are the options the set was loaded with (IOCSeverity
// defaulted).
func (r *Set) Options() Options { return r.opts }

// Close releases the YARA scanner.
func (r *Set) Close() {
	if r.yaraScanner != nil {
		r.yaraScanner.Close()
	}
}

// CoverAudit fixes the routing of SigmaSecurityAuditAuto for a replay:
// a host's audit events get the Sysmon-category rules only for the
// categories cover[host] lacks (Recordings.SysmonCover). Call it before
// Matchers. Without it, "auto" applies no audit view (as live capture).
func (r *Set) CoverAudit(cover map[string]sigma.AuditCategories) {
	if r.Sigma != nil && r.opts.SigmaSecurityAuditAuto {
		r.Sigma = r.Sigma.WithAuditCover(cover)
	}
}

// Matchers builds one engine's matchers and file scanner. Each call gives
// fresh Sigma state (correlations), so two engines never share it. store is
// the recordings' artifact store (nil: hashes and YARA on images are not
// re-run).
func (r *Set) Matchers(store filescan.Store) ([]detect.Matcher, *detect.FileMatcher) {
	var ms []detect.Matcher
	if r.Sigma != nil {
		ms = append(ms, detect.NewSigmaMatcher(r.Sigma))
	}
	if r.IOC != nil && !r.IOC.Empty() {
		ms = append(ms, detect.NewIOCMatcher(r.IOC, r.opts.IOCSeverity))
	}
	var fm *detect.FileMatcher
	if store != nil {
		fm = r.FileMatcher(store)
	}
	return ms, fm
}

// FileMatcher builds the hash IOC and YARA checks of files: over store
// (replay), or, with a nil store, for files handed to it (edr scan). It is
// nil when neither YARA rules nor indicators loaded.
func (r *Set) FileMatcher(store filescan.Store) *detect.FileMatcher {
	if r.yaraScanner == nil && (r.IOC == nil || r.IOC.Empty()) {
		return nil
	}
	fo := filescan.Options{Store: store, IOC: r.IOC, HashAllowlist: r.opts.HashAllowlist,
		YARAAllowlist: r.opts.YARAAllowlist, MaxFileBytes: r.opts.MaxFileBytes}
	if r.yaraScanner != nil {
		fo.YARA = r.yaraScanner
	}
	return detect.NewFileMatcher(filescan.New(fo), r.opts.IOCSeverity)
}

// IOCFiles returns the seed's four IOC files under dir (only those that
// exist).
func IOCFiles(dir string) ioc.Paths {
	pick := func(name string) string {
		p := dir + string(os.PathSeparator) + name
		if _, err := os.Stat(p); err != nil {
			return ""
		}
		return p
	}
	return ioc.Paths{Hashes: pick("hashes.txt"), IPs: pick("ips.txt"), Domains: pick("domains.txt"), PathsRegex: pick("paths_regex.txt")}
}

// WriteLoaded says what loaded, by engine (Sigma rules by status, YARA
// rules, indicators by kind), and what could not be checked: with no
// artifact store (hasStore false), YARA and hash indicators never see a
// process image, which is otherwise indistinguishable from a clean run.
// files is false for edr scan, where files are checked directly.
func (r *Set) WriteLoaded(w io.Writer, files, hasStore bool) {
	var parts []string
	if r.Sigma != nil {
		byStatus := map[string]int{}
		unsupported := 0
		for _, rule := range r.Sigma.Rules() {
			st := strings.ToLower(rule.Status)
			if st == "" {
				st = "no status"
			}
			byStatus[st]++
			if rule.Unsupported != "" {
				unsupported++
			}
		}
		keys := make([]string, 0, len(byStatus))
		for k := range byStatus {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var st []string
		for _, k := range keys {
			st = append(st, fmt.Sprintf("%s %d", k, byStatus[k]))
		}
		s := fmt.Sprintf("Sigma %d rules (%s)", len(r.Sigma.Rules()), strings.Join(st, ", "))
		if unsupported > 0 {
			s += fmt.Sprintf(", %d of them on a logsource edr does not route", unsupported)
		}
		parts = append(parts, s)
	}
	switch {
	case r.YARA != nil:
		parts = append(parts, fmt.Sprintf("YARA %d rules from %d files", r.YARA.NumRules(), len(r.YARA.Files())))
	case len(r.opts.YARAPaths) > 0 && !yara.Available:
		parts = append(parts, "YARA none ("+yara.ErrCompiledOut.Error()+")")
	}
	var hashes int
	if r.IOC != nil {
		s := r.IOC.Stats()
		hashes = s.MD5 + s.SHA1 + s.SHA256
		parts = append(parts, fmt.Sprintf("indicators md5 %d, sha1 %d, sha256 %d, ip %d, domain %d, path regex %d",
			s.MD5, s.SHA1, s.SHA256, s.IPs+s.CIDRs, s.Domains+s.Suffixes, s.Regexes))
	}
	if len(parts) == 0 {
		parts = append(parts, "no rules")
	}
	fmt.Fprintf(w, "loaded: %s\n", strings.Join(parts, "; "))
	if files && !hasStore && (r.yaraScanner != nil || hashes > 0) {
		fmt.Fprintln(w, "not checked: the recordings have no artifact store, so YARA and hash indicators ran on no process image "+
			"(edr artifacts add REC PATH… stores the files; edr scan checks files directly)")
	}
}
