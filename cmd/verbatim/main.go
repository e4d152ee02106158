// Command verbatim answers questions about a folder of articles with quotes
// that are verified to appear word for word in the source, from the command
// line or as a Discord bot.
//
// Usage:
//
//	verbatim ask "question"       answer with verified, cited quotes
//	verbatim quote "phrase"       find the exact passage that says something
//	verbatim search "question"    show the top passages with their scores
//	verbatim articles             list the articles in the corpus
//	verbatim index                build or refresh the index, with a summary
//	verbatim add URL|FILE         add an article, feed or sitemap to ARTICLES_DIR, then index
//	verbatim sync                 sync the subscribed feeds and sitemaps once
//	verbatim sources              list the subscriptions and their last sync
//	verbatim serve                run the Discord bot (needs DISCORD_TOKEN)
//	verbatim eval retrieval|answers --articles FILE --questions FILE
//
// Run "verbatim COMMAND --help" for a command's flags. Configuration comes
// from environment variables (and a .env file); see README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"
)

// command is one subcommand of verbatim.
type command struct {
	summary string
	run     func(ctx context.Context, app *app, args []string) error
}

var commands = map[string]command{
	"ask":      {"answer a question with verified, cited quotes", runAsk},
	"quote":    {"find the exact passage that says something", runQuote},
	"search":   {"show the top passages for a question, with scores", runSearch},
	"articles": {"list the articles in the corpus", runArticles},
	"index":    {"build or refresh the index and print what changed", runIndex},
	"add":      {"add a web page, file, feed or sitemap to ARTICLES_DIR and refresh the index", runAdd},
	"sync":     {"sync the feeds and sitemaps subscribed to, then refresh the index", runSync},
	"sources":  {"list the feeds and sitemaps subscribed to, with their last sync", runSources},
	"serve":    {"run the Discord bot (needs DISCORD_TOKEN)", runServe},
	"eval":     {"measure retrieval or answers on a question set", runEval},
}

// errUsage marks an error in the command line itself (exit status 2).
var errUsage = errors.New("usage")

// errShown is an errUsage that the flag package has already printed,
// with the command's usage.
var errShown = fmt.Errorf("%w (shown)", errUsage)

// signalGrace is how long a command other than serve may take to stop
// after SIGINT or SIGTERM before the process exits regardless; serve
// has SHUTDOWN_TIMEOUT for its answers in flight.
const signalGrace = time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go watchSignal(ctx, stop, os.Args[1:], signalGrace, os.Stderr, os.Exit)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// watchSignal waits for ctx, done at the first signal, then restores the
// default handling (so a second signal ends the process at once) and,
// unless the command is serve, exits through exit after grace: a command
// that is still running by then is stopped regardless.
func watchSignal(ctx context.Context, stop context.CancelFunc, args []string, grace time.Duration, stderr io.Writer, exit func(int)) {
	<-ctx.Done()
	stop()
	if len(args) > 0 && args[0] == "serve" {
		return
	}
	time.Sleep(grace)
	fmt.Fprintln(stderr, "verbatim: stopped by a signal")
	exit(1)
}

// run executes one command line and returns the process exit status:
// 0 on success, 1 on failure, 2 on a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "verbatim: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintf(stderr, "verbatim: %v\n", err)
		return 1
	}
	a := &app{cfg: cfg, name: args[0], stdout: stdout, stderr: stderr}
	err = cmd.run(ctx, a, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errShown):
		return 2
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "verbatim %s: %v\n", a.name, err)
		return 2
	default:
		fmt.Fprintf(stderr, "verbatim %s: %v\n", a.name, err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Verbatim answers questions about articles with quotes checked word for word.")
	fmt.Fprintln(w, "\nUsage: verbatim COMMAND [flags] [arguments]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-9s %s\n", name, commands[name].summary)
	}
	fmt.Fprintln(w, "\nRun 'verbatim COMMAND --help' for a command's flags. Settings come from")
	fmt.Fprintln(w, "environment variables or a .env file (see README.md).")
}

// newFlags returns a FlagSet for a command whose --help prints the
// command's usage line and flags.
func (a *app) newFlags(args, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(a.name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() {
		fmt.Fprintf(a.stderr, "Usage: verbatim %s %s\n\n%s\n", a.name, args, about)
		var b strings.Builder
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(a.stderr)
		if b.Len() > 0 {
			fmt.Fprintf(a.stderr, "\nFlags:\n%s", b.String())
		}
	}
	return fs
}

// parse parses flags, allowing them before or after the positional
// arguments, and wraps flag errors as usage errors.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errShown // flag printed the error and the usage
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}
