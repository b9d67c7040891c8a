package main

import "fmt"

// loadReplayConfig returns the seed's defaults. Reading a config file
// (scanner.*_rules_path, ioc.*, alerts.match_debug, allowlists) is wired
// once the config package (foundation) lands; until then --config is
// refused rather than ignored.
func loadReplayConfig(path string) (replayConfig, error) {
	cfg := defaultReplayConfig()
	if path != "" {
		return cfg, fmt.Errorf("--config %s: config files are not supported by this build yet (the config package has not landed)", path)
	}
	return cfg, nil
}
