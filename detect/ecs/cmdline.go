package ecs

// SplitCommandLine splits a Windows command line into argv the way
// CommandLineToArgvW does: the program name ends at the first space or at
// its closing quote (no escapes); in later arguments 2n backslashes before a
// quote give n backslashes and toggle quoting, 2n+1 give n and a literal
// quote, other backslashes are literal, and "" inside quotes is a literal
// quote.
func SplitCommandLine(s string) []string { return appendCommandLineArgs(nil, s) }

// appendCommandLineArgs appends the arguments of s to args. An argument
// without quotes is a substring of s (no allocation).
func appendCommandLineArgs(args []string, s string) []string { return splitArgs(args, s, true) }

// splitArgs splits s; fast takes arguments without quotes as written (the
// slow path gives the same result, built byte by byte: tests compare them).
func splitArgs(args []string, s string, fast bool) []string {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i == len(s) {
		return args
	}
	// Program name.
	if s[i] == '"' {
		j := i + 1
		for j < len(s) && s[j] != '"' {
			j++
		}
		args = append(args, s[i+1:j])
		i = j + 1
	} else {
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '\t' {
			j++
		}
		args = append(args, s[i:j])
		i = j
	}
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			return args
		}
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '"' {
			j++
		}
		if fast && (j == len(s) || s[j] != '"') {
			// No quote: backslashes are literal, the argument is as written.
			args = append(args, s[i:j])
			i = j
			continue
		}
		var arg []byte
		inQuote := false
		for i < len(s) {
			c := s[i]
			if (c == ' ' || c == '\t') && !inQuote {
				break
			}
			switch c {
			case '\\':
				n := 0
				for i < len(s) && s[i] == '\\' {
					n++
					i++
				}
				if i < len(s) && s[i] == '"' {
					for k := 0; k < n/2; k++ {
						arg = append(arg, '\\')
					}
					if n%2 == 1 {
						arg = append(arg, '"')
						i++
					}
				} else {
					for k := 0; k < n; k++ {
						arg = append(arg, '\\')
					}
				}
				continue
			case '"':
				if inQuote && i+1 < len(s) && s[i+1] == '"' {
					arg = append(arg, '"')
					i += 2
					continue
				}
				inQuote = !inQuote
				i++
				continue
			}
			arg = append(arg, c)
			i++
		}
		args = append(args, string(arg))
	}
}
