package actors

import (
	"html"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
)

// newHTMLPolicy returns the sanitizer for every piece of HTML the package
// stores or serves (bios, field values, statuses): the small set of
// elements Mastodon keeps (paragraphs, line breaks, links, spans with
// microformat classes, emphasis, code, quotes, lists), links restricted to
// http, https and mailto and opened with rel="nofollow noopener noreferrer".
// A bluemonday.Policy is safe for concurrent use once built.
func newHTMLPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "span", "strong", "b", "em", "i", "u", "s", "del",
		"code", "pre", "blockquote", "ol", "ul", "li")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^[a-z0-9 _-]{1,100}$`)).OnElements("a", "span")
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^[a-z ]{1,50}$`)).OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	return p
}

// sanitize cleans untrusted HTML.
func (s *Service) sanitize(h string) string {
	return strings.TrimSpace(s.html.Sanitize(h))
}

// plainToHTML turns plain text into paragraphs: blank lines separate
// paragraphs, single newlines become <br>. The text is escaped; link, the
// optional linker, writes each token's HTML (escaped or a link).
func plainToHTML(text string, link func(token string) string) string {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	var b strings.Builder
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		b.WriteString("<p>")
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				b.WriteString("<br>")
			}
			if link == nil {
				b.WriteString(html.EscapeString(line))
				continue
			}
			writeTokens(&b, line, link)
		}
		b.WriteString("</p>")
	}
	return b.String()
}

// writeTokens writes line split at spaces, each word through link.
func writeTokens(b *strings.Builder, line string, link func(string) string) {
	start := 0
	for i, r := range line {
		if r == ' ' || r == '\t' {
			if i > start {
				b.WriteString(link(line[start:i]))
			}
			b.WriteString(html.EscapeString(string(r)))
			start = i + utf8.RuneLen(r)
		}
	}
	if start < len(line) {
		b.WriteString(link(line[start:]))
	}
}

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// htmlToText strips tags for a plain-text view (HTML page titles, search).
func (s *Service) htmlToText(h string) string {
	h = strings.NewReplacer("<br>", "\n", "</p><p>", "\n\n").Replace(h)
	return strings.TrimSpace(html.UnescapeString(s.strict.Sanitize(h)))
}

// htmlText escapes text for an HTML text node; htmlAttr for a quoted
// attribute value.
func htmlText(s string) string { return html.EscapeString(s) }
func htmlAttr(s string) string { return html.EscapeString(s) }
