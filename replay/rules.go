package replay

import (
	"errors"
	"fmt"
	"os"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/filescan"
	"github.com/edr-lab/edr/detect/ioc"
	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/detect/yara"
)

// RuleOptions say which rules a replay runs.
type RuleOptions struct {
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

// Rules are the loaded rule sets of a replay.
type Rules struct {
	Sigma *sigma.Ruleset
	IOC   *ioc.Set
	YARA  *yara.Rules
	// Errors are the rules and indicators that did not load, each naming
	// its file (and line or construct); the rest loaded.
	Errors []error

	yaraScanner *yara.Scanner
	opts        RuleOptions
}

// LoadRules loads every configured rule set. Bad rules are collected in
// Rules.Errors and skipped; an error is returned only when a configured set
// loaded nothing at all.
func LoadRules(o RuleOptions) (*Rules, error) {
	if o.IOCSeverity == detect.SeverityNone {
		o.IOCSeverity = detect.SeverityHigh
	}
	r := &Rules{opts: o}
	if len(o.SigmaPaths) > 0 {
		rs, errs := sigma.Load(o.SigmaPaths, sigma.Options{Ruleset: o.SigmaRuleset, Debug: o.MatchDebug != detect.MatchDebugOff,
			SecurityAudit: o.SigmaSecurityAudit, SecurityAuditAuto: o.SigmaSecurityAuditAuto, Placeholders: o.SigmaPlaceholders})
		for _, e := range errs {
			r.Errors = append(r.Errors, e)
		}
		if len(rs.Rules()) == 0 {
			return nil, fmt.Errorf("no Sigma rule loaded from %v (%d errors)", o.SigmaPaths, len(errs))
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

// Close releases the YARA scanner.
func (r *Rules) Close() {
	if r.yaraScanner != nil {
		r.yaraScanner.Close()
	}
}

// CoverAudit fixes the routing of SigmaSecurityAuditAuto for a replay:
// a host's audit events get the Sysmon-category rules only for the
// categories cover[host] lacks (Recordings.SysmonCover). Call it before
// Matchers. Without it, "auto" applies no audit view (as live capture).
func (r *Rules) CoverAudit(cover map[string]sigma.AuditCategories) {
	if r.Sigma != nil && r.opts.SigmaSecurityAuditAuto {
		r.Sigma = r.Sigma.WithAuditCover(cover)
	}
}

// Matchers builds one engine's matchers and file scanner. Each call gives
// fresh Sigma state (correlations), so two engines never share it. store is
// the recordings' artifact store (nil: hashes and YARA on images are not
// re-run).
func (r *Rules) Matchers(store filescan.Store) ([]detect.Matcher, *detect.FileMatcher) {
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
func (r *Rules) FileMatcher(store filescan.Store) *detect.FileMatcher {
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
