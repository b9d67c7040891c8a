package sink

import (
	"context"
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
	// Filter is logging.filter: per-component minimum levels (see
	// config.ParseLogFilter); a record's component is its "component"
	// attribute or its logger's (logger.With(ComponentKey, name)).
	Filter string
}

// ComponentKey is the attribute that names the component a log record
// comes from, for logging.filter.
const ComponentKey = "component"

// LogOptionsFrom maps the [logging] section; console receives the console
// output (stderr in edr).
func LogOptionsFrom(c config.Logging, console io.Writer) LogOptions {
	return LogOptions{Level: c.Level, Directory: c.Directory, Filename: c.Filename, ConsoleOutput: c.ConsoleOutput, Console: console, Filter: c.Filter}
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
	filter, err := newLevelFilter(level, o.Filter)
	if err != nil {
		return nil, nil, err
	}
	// The handlers pass everything the filter lets through; it decides.
	hopts := &slog.HandlerOptions{Level: filter.min}
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
		return slog.New(filter.wrap(handlers[0])), closer, nil
	}
	return slog.New(filter.wrap(slog.NewMultiHandler(handlers...))), closer, nil
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

// levelFilter applies logging.level and logging.filter: a record passes
// when its level reaches its component's minimum (the default for records
// without a component or with one the filter does not name).
type levelFilter struct {
	def   slog.Level
	comps map[string]slog.Level
	min   slog.Level // lowest of all: what the wrapped handlers let through
}

func newLevelFilter(level slog.Level, spec string) (*levelFilter, error) {
	lf, err := config.ParseLogFilter(spec)
	if err != nil {
		return nil, fmt.Errorf("logging.filter: %w", err)
	}
	f := &levelFilter{def: level, comps: map[string]slog.Level{}}
	if lf.Default != "" {
		if f.def, err = ParseLevel(lf.Default); err != nil {
			return nil, err
		}
	}
	f.min = f.def
	for c, l := range lf.Components {
		if f.comps[c], err = ParseLevel(l); err != nil {
			return nil, err
		}
		f.min = min(f.min, f.comps[c])
	}
	return f, nil
}

func (f *levelFilter) wrap(h slog.Handler) slog.Handler {
	if len(f.comps) == 0 {
		return h // the handlers' level is the whole filter
	}
	return &filterHandler{next: h, f: f, level: f.def}
}

// levelOf is the minimum level of a component.
func (f *levelFilter) levelOf(comp string) slog.Level {
	if l, ok := f.comps[comp]; ok {
		return l
	}
	return f.def
}

// filterHandler knows the component of its logger (from WithAttrs) and
// reads a record's own component attribute when it has one.
type filterHandler struct {
	next    slog.Handler
	f       *levelFilter
	level   slog.Level // of the logger's component (or the default)
	grouped bool       // attributes added after WithGroup do not name the component
}

func (h *filterHandler) Enabled(ctx context.Context, l slog.Level) bool {
	// A record may still name a component with a lower minimum.
	return l >= h.f.min && h.next.Enabled(ctx, l)
}

func (h *filterHandler) Handle(ctx context.Context, r slog.Record) error {
	level := h.level
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == ComponentKey && a.Value.Kind() == slog.KindString {
			level = h.f.levelOf(a.Value.String())
			return false
		}
		return true
	})
	if r.Level < level {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *filterHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	if !h.grouped {
		for _, a := range attrs {
			if a.Key == ComponentKey && a.Value.Kind() == slog.KindString {
				c.level = h.f.levelOf(a.Value.String())
			}
		}
	}
	return &c
}

func (h *filterHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	c.grouped = c.grouped || name != ""
	return &c
}
