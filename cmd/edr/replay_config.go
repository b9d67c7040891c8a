package main

import (
	"fmt"

	"github.com/edr-lab/edr/config"
	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/ioc"
	"github.com/edr-lab/edr/detect/sigma"
)

// replayConfig is what replay takes from the configuration.
type replayConfig struct {
	sigmaPaths, yaraPaths        []string
	ioc                          ioc.Paths
	rulesDefault                 bool // every rule path is the built-in default
	ruleset                      string
	matchDebug                   detect.MatchDebug
	iocSeverity                  detect.Severity
	hashAllowlist, yaraAllowlist []string
	maxFileBytes                 int64
	sigma                        sigma.Options // SecurityAudit, Placeholders
}

// replayFlagKeys are replay's flags that set a configuration key (so they
// take part in `--set` precedence like every key). `edr test --expect`
// loads rules as replay does and adds --placeholders.
var replayFlagKeys = map[string]string{"match-debug": "alerts.match_debug", "placeholders": "scanner.sigma_placeholders_path"}

// mapReplayConfig maps the keys replay uses: scanner.* (Sigma and YARA paths
// and switches, Sigma audit routing and placeholders, YARA allowlist), ioc.*
// (files, switch, default severity, size cap, hash allowlist; the
// allowlists already inherit allowlist.paths) and alerts.match_debug.
func mapReplayConfig(c *config.Config) (replayConfig, error) {
	rc := replayConfig{ruleset: "edr/rules", hashAllowlist: c.IOC.HashAllowlistPaths, yaraAllowlist: c.Scanner.YaraAllowlistPaths,
		maxFileBytes: int64(c.IOC.MaxFileSizeMB) << 20}
	md, ok := detect.ParseMatchDebug(c.Alerts.MatchDebug)
	if !ok {
		return rc, fmt.Errorf("alerts.match_debug %q: want off, summary or full", c.Alerts.MatchDebug)
	}
	rc.matchDebug = md
	var err error
	if rc.iocSeverity, err = detect.ParseSeverity(c.IOC.DefaultSeverity); err != nil {
		return rc, fmt.Errorf("ioc.default_severity: %w", err)
	}
	if rc.sigma, err = sigmaConfig(c); err != nil {
		return rc, err
	}
	rc.rulesDefault = true
	isDefault := func(key string) bool { return c.Origin(key).Source == config.FromDefault }
	if c.Scanner.SigmaEnabled {
		rc.sigmaPaths = []string{c.Scanner.SigmaRulesPath}
		rc.rulesDefault = rc.rulesDefault && isDefault("scanner.sigma_rules_path")
	}
	if c.Scanner.YaraEnabled {
		rc.yaraPaths = []string{c.Scanner.YaraRulesPath}
		rc.rulesDefault = rc.rulesDefault && isDefault("scanner.yara_rules_path")
	}
	if c.IOC.Enabled {
		rc.ioc = ioc.Paths{Hashes: c.IOC.HashesPath, IPs: c.IOC.IPsPath, Domains: c.IOC.DomainsPath, PathsRegex: c.IOC.PathsRegexPath}
		for _, k := range []string{"ioc.hashes_path", "ioc.ips_path", "ioc.domains_path", "ioc.paths_regex_path"} {
			rc.rulesDefault = rc.rulesDefault && isDefault(k)
		}
	}
	if !rc.rulesDefault {
		rc.ruleset = "" // rule.ruleset: the base name of the configured path
	}
	return rc, nil
}

// sigmaConfig maps scanner.sigma_security_audit and
// scanner.sigma_placeholders_path (loaded here) to Sigma load options: every
// command that loads Sigma rules (replay, test, rules validate) uses it.
func sigmaConfig(c *config.Config) (sigma.Options, error) {
	// "auto" decides per host and category from what a replay reads
	// (ruleset.Set.CoverAudit); commands without recordings (rules
	// validate, test's regression runs) and live capture apply no view.
	mode := c.Scanner.SigmaSecurityAudit
	o := sigma.Options{SecurityAudit: mode == "true", SecurityAuditAuto: mode == "auto"}
	if p := c.Scanner.SigmaPlaceholdersPath; p != "" {
		ph, err := sigma.LoadPlaceholders(p)
		if err != nil {
			return o, fmt.Errorf("scanner.sigma_placeholders_path (%s): %w", c.Origin("scanner.sigma_placeholders_path"), err)
		}
		o.Placeholders = ph
	}
	return o, nil
}
