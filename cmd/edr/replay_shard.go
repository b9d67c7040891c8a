package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/edr-lab/edr/replay"
	"github.com/urfave/cli/v2"
)

// replayPlan prints a plan of shards (edr replay --plan N REC…).
func replayPlan(c *cli.Context) error {
	if c.NArg() == 0 {
		return exitf(2, "replay --plan: no recording given")
	}
	set, err := replaySettingsFrom(c)
	if err != nil {
		return exitf(2, "replay: %v", err)
	}
	defer set.cleanup()
	dirs, _ := replay.UniqueDirs(c.Args().Slice())
	p, err := replay.MakePlan(dirs, set.read, c.Int("plan"))
	if err != nil {
		return exitf(readFailureCode(err), "replay --plan: %v", err)
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.App.Writer, "%s\n", b)
	return err
}

// replayShard replays one shard of a plan into a part directory.
func replayShard(c *cli.Context) error {
	planPath, idx, err := replay.ParseShardRef(c.String("shard"))
	if err != nil {
		return exitf(2, "replay: %v", err)
	}
	if c.String("out") == "" {
		return exitf(2, "replay --shard: --out PART_DIR is required")
	}
	if c.NArg() > 0 || c.IsSet("from") || c.IsSet("to") || c.IsSet("host") {
		return exitf(2, "replay --shard: the plan names the recordings, hosts and times (no REC, --from, --to or --host)")
	}
	plan, err := replay.ReadPlan(planPath)
	if err != nil {
		return exitf(2, "replay --shard: %v", err)
	}
	read, err := replay.ShardRead(plan, idx, replay.ReadOptions{})
	if err != nil {
		return exitf(2, "replay --shard: %s: %v", planPath, err)
	}
	set, ruleSet, done, err := replayRules(c)
	if err != nil {
		return err
	}
	defer done()
	ruleSet.CoverAudit(plan.AuditCover) // the whole range's, as one replay
	read.Strict, read.Parallel = set.read.Strict, set.read.Parallel
	recs, err := replay.Open(plan.Recordings, read)
	if err != nil {
		return exitf(readFailureCode(err), "replay --shard: %v", err)
	}
	defer recs.Close()
	start, err := recs.Start()
	if err != nil {
		return exitf(1, "replay --shard: %v", err)
	}
	opts := replay.Options{Rules: ruleSet, MatchDebug: set.debug, Start: start}
	if st := recs.Store(); st != nil {
		opts.Store = st
	}
	t0 := time.Now() // summary only
	sum, err := replay.RunShard(c.Context, recs.Source(), opts, replay.ShardOptions{Plan: plan, Index: idx, Out: c.String("out")})
	if sum != nil && !c.Bool("quiet") {
		recs.Fill(sum)
		fmt.Fprintf(c.App.ErrWriter, "shard %d of %d (%s): %d events in %s, %d segments read, %d skipped\n", idx, len(plan.Shards),
			plan.Shards[idx].Host, sum.Events, time.Since(t0).Round(time.Millisecond), sum.SegmentsRead, sum.SegmentsSkipped)
		for _, e := range sum.ReadErrors {
			fmt.Fprintf(c.App.ErrWriter, "  read error: %v\n", e)
		}
	}
	if err != nil {
		return exitf(readFailureCode(err), "replay --shard: %v", err)
	}
	return nil
}

// replayMerge merges part directories into the alerts of one replay.
func replayMerge(c *cli.Context) error {
	if c.NArg() == 0 {
		return exitf(2, "replay --merge: no part directory given")
	}
	// the merge writes ECS NDJSON, every alert (a timeline is made from
	// its output with a plain replay's encoders later, not silently here)
	if f := c.String("format"); f != "" && f != "ecs" || c.IsSet("min-level") {
		return exitf(2, "replay --merge: --format %q and --min-level are not supported (the merge writes every alert as ECS NDJSON)", f)
	}
	set, ruleSet, done, err := replayRules(c)
	if err != nil {
		return err
	}
	defer done()
	out, closeOut, err := alertOutput(c.String("alerts"), c.App.Writer)
	if err != nil {
		return exitf(1, "replay: %v", err)
	}
	t0 := time.Now() // summary only
	sum, err := replay.Merge(c.Args().Slice(), ruleSet, set.debug, out)
	if err = errors.Join(err, closeOut()); err != nil {
		return exitf(1, "replay --merge: %v", err)
	}
	if !c.Bool("quiet") {
		fmt.Fprintf(c.App.ErrWriter, "merge: %d parts, %d events, %d alerts (%d correlation, from %d inputs) in %s\n",
			sum.Parts, sum.Events, sum.Alerts, sum.CorrelationAlerts, sum.Inputs, time.Since(t0).Round(time.Millisecond))
	}
	return nil
}
