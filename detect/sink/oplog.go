package sink

import (
	"fmt"
	"github.com/edr-lab/edr/config"
	"io"
	"log/slog"
	"strings"
)

// LogOptions are the [logging] settings.
type LogOptions struct {
	Level         string // trace/debug/info/warn/error
	Directory     string // daily files <Directory>/<Filename>.YYYY-MM-DD; "" = no file
	Filename      string
	ConsoleOutput bool
	Console       io.Writer // where console output goes (stderr by default in cmd)
}

// LogOptionsFrom maps the [logging] section; console receives the console
// output (stderr in edr).
func LogOptionsFrom(c config.Logging, console io.Writer) LogOptions {
	return LogOptions{Level: c.Level, Directory: c.Directory, Filename: c.Filename, ConsoleOutput: c.ConsoleOutput, Console: console}
}

// ParseLevel maps the seed's level names to slog levels (trace is below
// debug).
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "trace":
		return slog.LevelDebug - 4, nil
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return slog.LevelInfo, fmt.Errorf("unknown log level %q (want trace, debug, info, warn or error)", s)
}

// NewLogger builds the operational logger: JSON lines to daily files named
// from [logging] (e.g. logs/edr.log.YYYY-MM-DD, dated by the wall clock: they
// are operational, not detection output) and, when ConsoleOutput is set,
// text to the console. Close the returned closer on exit.
func NewLogger(o LogOptions) (*slog.Logger, io.Closer, error) {
	level, err := ParseLevel(o.Level)
	if err != nil {
		return nil, nil, err
	}
	hopts := &slog.HandlerOptions{Level: level}
	var handlers []slog.Handler
	var closer io.Closer = nopCloser{}
	if o.Directory != "" {
		name := o.Filename
		if name == "" {
			name = "edr.log"
		}
		d, err := NewDailyFile(o.Directory, name, false)
		if err != nil {
			return nil, nil, err
		}
		w := &flushingWriter{d}
		handlers = append(handlers, slog.NewJSONHandler(w, hopts))
		closer = d
	}
	if o.ConsoleOutput && o.Console != nil {
		handlers = append(handlers, slog.NewTextHandler(o.Console, hopts))
	}
	switch len(handlers) {
	case 0:
		return slog.New(slog.DiscardHandler), closer, nil
	case 1:
		return slog.New(handlers[0]), closer, nil
	}
	return slog.New(slog.NewMultiHandler(handlers...)), closer, nil
}

// flushingWriter flushes each log record so a crash loses none.
type flushingWriter struct{ d *DailyFile }

func (f *flushingWriter) Write(p []byte) (int, error) {
	n, err := f.d.Write(p)
	if err != nil {
		return n, err
	}
	return n, f.d.Flush()
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
