package discord

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/verbatim-bot/verbatim/corpus"
	"github.com/verbatim-bot/verbatim/corpus/fetch"
	"github.com/verbatim-bot/verbatim/retrieval"
)

// Bounds on what /add downloads.
const (
	maxAddBytes  = 5 << 20
	fetchTimeout = 20 * time.Second
)

const (
	noticeNoAdd     = "Adding articles is not available on this bot."
	noticeAddNoDir  = "Adding articles needs ARTICLES_DIR set to a writable folder; this bot serves its built-in articles."
	noticeAddDM     = "/add works only in a server, not in direct messages."
	noticeAddNotAdm = "Only server managers can add articles."
	noticeAddOne    = "Give either a url or a file to add (one of them, not both)."
	noticeAddScheme = "Give a link starting with http:// or https://."
	noticeAddUser   = "Give a link without a user name or password in it."
	noticeAddBig    = "That file is larger than 5 MiB; I can't add it."
)

// runAdd answers /add (for admins in a server, checked by runCommand), one
// reload at a time. It
// downloads the page or file, saves it in Config.ArticlesDir with
// corpus.Import (which refuses anything Load would skip) and reloads; if
// the reload fails it removes the file again, so the index in service and
// the folder stay as they were.
func (b *Bot) runAdd(ctx context.Context, in *discordgo.Interaction, data discordgo.ApplicationCommandInteractionData) {
	user := interactionUser(in)
	switch {
	case b.reload == nil:
		b.notice(ctx, in, noticeNoAdd)
		return
	case b.cfg.ArticlesDir == "":
		b.notice(ctx, in, noticeAddNoDir)
		return
	}
	link := strings.TrimSpace(optString(data, "url"))
	var att *discordgo.MessageAttachment
	if o := data.GetOption("file"); o != nil && data.Resolved != nil {
		id, _ := o.Value.(string)
		att = data.Resolved.Attachments[id]
	}
	switch {
	case (link == "") == (att == nil):
		b.notice(ctx, in, noticeAddOne)
		return
	case att != nil && att.Size > maxAddBytes:
		b.notice(ctx, in, noticeAddBig)
		return
	case link != "":
		u, err := url.Parse(link)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			b.notice(ctx, in, noticeAddScheme)
			return
		}
		if u.User != nil { // never saved, shown or logged
			b.notice(ctx, in, noticeAddUser)
			return
		}
	}
	if !b.claimAdminTask(ctx, in, "add") {
		return
	}
	msg := func() string {
		// Released before the report, so a reload may follow at once, and
		// even if the work panics.
		defer b.reloading.Store(false)
		return b.addArticle(ctx, in.ID, user.ID, b.scope(in.ChannelID, ""), link, att)
	}()
	b.sendNotice(ctx, &interactionDest{s: b.s, in: in, flags: discordgo.MessageFlagsEphemeral}, in.ID, msg)
}

// addArticle downloads, saves (in the folder of collection, when the
// channel has one) and reloads for /add, and returns the report for the
// admin.
func (b *Bot) addArticle(ctx context.Context, eventID, userID, collection, link string, att *discordgo.MessageAttachment) string {
	source := link
	fetchCtx, cancel := context.WithTimeout(ctx, fetchTimeout)
	var (
		name string
		data []byte
		err  error
	)
	switch {
	case att != nil:
		source = "attachment " + att.Filename
		name = att.Filename
		data, err = corpus.Download(fetchCtx, b.fetch, att.URL, maxAddBytes)
	case b.feeds != nil: // a feed or sitemap is subscribed to
		var msg string
		var done bool
		name, data, msg, done, err = b.addLink(ctx, eventID, userID, collection, link)
		if done {
			cancel()
			return msg
		}
	default:
		name, data, err = corpus.Fetch(fetchCtx, b.fetch, link, maxAddBytes)
	}
	cancel()
	if err != nil {
		b.log.Warn("add: download failed", "event_id", eventID, "user_id", userID, "source", source, "err", err)
		return "Couldn't add it: " + b.addReason(err, "") + ". Nothing was saved."
	}
	file, err := corpus.FileName(name)
	if err != nil {
		return "Couldn't add it: " + b.addReason(err, "") + ". Nothing was saved."
	}
	if collection != "" {
		file = collection + "/" + file
	}
	from := link
	if att != nil {
		from = ""
	}
	imp, err := corpus.Import(ctx, filepath.Join(b.cfg.ArticlesDir, collection), name, data, corpus.Options{MaxFileBytes: maxAddBytes, Logger: b.log, SourceURL: from})
	if err != nil {
		b.log.Warn("add: refused", "event_id", eventID, "user_id", userID, "source", source, "err", err)
		return "Couldn't add it: " + b.addReason(err, file) + ". Nothing was saved."
	}
	st, err := b.reload(ctx)
	if err != nil {
		b.log.Error("add: reload failed", "event_id", eventID, "user_id", userID, "file", file, "err", err)
		reason := reloadReason(err)
		switch {
		case !imp.Created:
			return "The reload failed: " + reason + ". The previous articles are still in service."
		default:
			if rerr := imp.Remove(); rerr != nil {
				b.log.Error("add: removing the file after a failed reload", "file", file, "err", rerr)
				return fmt.Sprintf("Couldn't add it: the reload failed (%s), and `%s` could not be removed from the articles folder. The previous articles are still in service.", reason, file)
			}
			return "Couldn't add it: the reload failed (" + reason + "), so the file was removed again. The previous articles are still in service."
		}
	}
	b.log.Info("article added", "event_id", eventID, "user_id", userID, "source", source, "file", file,
		"articles", len(imp.Corpus.Articles), "existed", !imp.Created)
	verb := "Added"
	if !imp.Created {
		verb = "Already had"
	}
	return fmt.Sprintf("%s %s (`%s`). %s", verb, titles(imp.Corpus.Articles), file, renderReload(st))
}

// reloadReason says in a fixed phrase why the reload after /add failed;
// the error itself, which may name paths or servers, goes only to the log.
func reloadReason(err error) string {
	switch {
	case errors.Is(err, retrieval.ErrReloading):
		return "another reload is running"
	case errors.Is(err, context.DeadlineExceeded):
		return "it took too long"
	case errors.Is(err, context.Canceled):
		return "it was cancelled"
	}
	return "the error is in the bot's log"
}

// titles lists up to five article titles for a report.
func titles(arts []corpus.Article) string {
	const most = 5
	var parts []string
	for _, a := range arts[:min(len(arts), most)] {
		parts = append(parts, "“"+escapeQuote(truncate(a.Title, 100))+"”")
	}
	s := strings.Join(parts, ", ")
	if n := len(arts) - most; n > 0 {
		s += fmt.Sprintf(" and %d more", n)
	}
	return s
}

// addReason says why /add could not download or save something, in words
// fit for Discord: no paths, addresses or internal errors.
func (b *Bot) addReason(err error, file string) string {
	var status *corpus.StatusError
	var netErr net.Error
	switch {
	case errors.As(err, &status):
		return fmt.Sprintf("the server answered %d", status.Code)
	case feedReason(err) != "":
		return feedReason(err)
	case errors.Is(err, corpus.ErrTooLarge), errors.Is(err, fetch.ErrTooLarge):
		return "it is larger than 5 MiB"
	case errors.Is(err, corpus.ErrExists):
		return fmt.Sprintf("a different file named `%s` is already in the articles folder", file)
	case errors.Is(err, corpus.ErrUnsupported):
		return escapeQuote(truncate(strings.TrimPrefix(err.Error(), corpus.ErrUnsupported.Error()+": "), 200))
	case errors.Is(err, corpus.ErrNoArticles):
		return "no article could be read from it (" + escapeQuote(truncate(strings.TrimPrefix(err.Error(), corpus.ErrNoArticles.Error()+": "), 200)) + ")"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "it took too long"
	case errors.Is(err, fetch.ErrNotPublic):
		return "that address is not on the public internet"
	case file == "":
		return "the download failed"
	}
	return "it could not be saved"
}
