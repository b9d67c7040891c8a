package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/edr-lab/edr/config"
	"github.com/urfave/cli/v2"
)

// configFlags are the flags every command that reads the configuration
// takes: the file and generic overrides (highest precedence).
func configFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "config", Usage: "config file (TOML; default: ./" + config.DefaultFile + " when present)"},
		&cli.StringSliceFlag{Name: "set", Usage: "override a key: section.key=value (repeatable; lists as JSON arrays)"},
	}
}

// loadConfig builds the effective configuration of a command: defaults,
// the config file, EDR__ environment variables, then --set overrides and
// the command's own flags (flagKeys maps a flag name to its config key;
// only flags given on the command line apply).
func loadConfig(c *cli.Context, flagKeys map[string]string) (*config.Config, error) {
	path := c.String("config")
	if !c.IsSet("config") {
		path = config.Find()
	}
	cfg, err := config.Load(path, os.Environ())
	if err != nil {
		return nil, err
	}
	for _, kv := range c.StringSlice("set") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("--set %s: want section.key=value", kv)
		}
		if err := cfg.SetFlag(strings.TrimSpace(k), v, "--set "+strings.TrimSpace(k)); err != nil {
			return nil, err
		}
	}
	// Command flags beat --set: apply them in the command's flag order.
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		key, ok := flagKeys[name]
		if !ok || !c.IsSet(name) {
			continue
		}
		if err := cfg.SetFlag(key, fmt.Sprint(c.Value(name)), "--"+name); err != nil {
			return nil, err
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func init() {
	register(&cli.Command{
		Name:  "config",
		Usage: "show the effective configuration or print the example config file",
		Subcommands: []*cli.Command{
			{
				Name:  "show",
				Usage: "print the effective configuration and where each value came from (default, file, env, flag, inherited)",
				Description: "Precedence: flags (--set) > EDR__SECTION__KEY environment variables > the config file > defaults.\n" +
					"The text output is itself a valid config file. Exit code 2 when the configuration is invalid.",
				Flags: append(configFlags(), &cli.BoolFlag{Name: "json", Usage: "one JSON object: {section: {key: {value, source, where}}}"}),
				Action: func(c *cli.Context) error {
					if c.NArg() > 0 {
						return exitf(2, "config show: unexpected argument %q", c.Args().First())
					}
					cfg, err := loadConfig(c, nil)
					if err != nil {
						return exitf(2, "%v", err)
					}
					if c.Bool("json") {
						b, err := cfg.ShowJSON()
						if err != nil {
							return exitf(1, "config show: %v", err)
						}
						_, err = fmt.Fprintf(c.App.Writer, "%s\n", b)
						return err
					}
					_, err = fmt.Fprint(c.App.Writer, cfg.Show())
					return err
				},
			},
			{
				Name:  "example",
				Usage: "print the commented config file with every default (the repository's config.toml)",
				Action: func(c *cli.Context) error {
					_, err := fmt.Fprint(c.App.Writer, config.ExampleTOML())
					return err
				},
			},
		},
	})
}
