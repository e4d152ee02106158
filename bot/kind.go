package bot

import (
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/verbatim-bot/verbatim/corpus"
)

// Kind is the kind of thing a question asks for, judged from its wording.
type Kind string

const (
	AnyKind  Kind = ""
	Quantity Kind = "quantity" // how much, how many, what share
	Length   Kind = "length"   // how tall, how high, how far: a number with its unit
	Speed    Kind = "speed"    // how fast is, what speed
	Weight   Kind = "weight"   // how heavy
	Time     Kind = "time"     // when, what year, how long
	Person   Kind = "person"   // who, which leader
	Place    Kind = "place"    // where, which city or country
	Reason   Kind = "reason"   // why, what for
)

// kindCues maps the wording of a question to the kind it asks for: the
// earliest cue within its first words wins; at the same place, the
// earlier group.
func kindCues() []struct {
	kind     Kind
	openings []string
} {
	return []struct {
		kind     Kind
		openings []string
	}{
		// A dimension asks for a measure with its unit, or a rate ("how
		// high is unemployment"): "five years" does not answer "how tall".
		// "how fast did they…" asks how soon, not a speed, so only "how
		// fast is…" and the like ask for one.
		{Length, []string{"how far", "how high", "how tall", "how deep", "how wide", "what height", "what length",
			"what distance"}},
		{Speed, []string{"how fast is", "how fast are", "how fast was", "how fast can", "how fast does",
			"how quick is", "how quick are", "how quick was", "what speed", "what top speed"}},
		{Weight, []string{"how heavy"}},
		{Quantity, []string{"how many", "how much", "how big", "how large", "how old", "what share", "what percentage", "what percent",
			"what proportion", "what fraction", "what portion", "what part", "what amount", "what number"}},
		{Time, []string{"when", "what year", "which year", "in what year", "in which year", "what date",
			"which date", "what century", "in what century", "what decade", "what month", "how long",
			"how soon", "since when", "until when", "what time", "how recently"}},
		{Reason, []string{"why", "what for", "how come", "for what reason", "what is the reason", "what's the reason",
			"what was the reason", "what caused", "what causes"}},
		{Place, []string{"where", "which city", "what city", "which country", "what country", "which countries",
			"what countries", "which place", "what place", "which region", "what region", "in which", "from where"}},
		{Person, []string{"who", "whom", "whose", "which leader", "what leader", "which person", "what person",
			"which president", "which minister", "which official", "which professor", "which expert", "which academic"}},
	}
}

// questionKind returns the kind of thing question asks for; AnyKind when
// its wording gives no hint.
func questionKind(question string) Kind {
	ws := corpus.Words(question)
	for i, w := range ws {
		ws[i] = uncontract(w)
	}
	words := " " + strings.Join(ws, " ") + " "
	if strings.Contains(words, " percent ") || strings.Contains(question, "%") {
		return Quantity
	}
	best, at := AnyKind, len(words)
	for _, k := range kindCues() {
		for _, o := range k.openings {
			// A cue counts at the start or after a leading word or two
			// ("so who…", "and when…", "ok how many…").
			if i := strings.Index(words, " "+o+" "); i >= 0 && i < at && strings.Count(words[:i], " ") <= 2 {
				best, at = k.kind, i
			}
		}
	}
	return best
}

// uncontract returns w without a contracted verb ("when's" is "when",
// "who're" is "who"), so that a contraction does not hide a cue.
func uncontract(w string) string {
	for _, suffix := range []string{"'s", "'re", "'d", "'ll", "'ve"} {
		if s, ok := strings.CutSuffix(w, suffix); ok && s != "" {
			return s
		}
	}
	return w
}

// holds reports whether sentence holds a thing of kind k, given the
// question's terms q (a name the question already gives is not new) and
// names, the terms known to be names in its passage (see knownNames).
func (k Kind) holds(sentence string, q, names map[string]bool) bool {
	switch k {
	case Quantity:
		return hasQuantity(sentence)
	case Length:
		return lengthUnit.MatchString(sentence) || metres.MatchString(sentence) || rate.MatchString(sentence)
	case Speed:
		return speedUnit.MatchString(sentence) || rate.MatchString(sentence)
	case Weight:
		return weightUnit.MatchString(sentence) || rate.MatchString(sentence)
	case Time:
		return hasTime(sentence)
	case Person, Place:
		return hasNewName(sentence, q, names)
	case Reason:
		return reasonCue.MatchString(sentence)
	}
	return true
}

// lengthUnit, speedUnit and weightUnit find a measure of their dimension:
// a number, in digits or words, with its unit ("130cm", "3 km/h", "two
// metres"). A bare "m", as often "million" ("5m euros"), counts only
// where it measures (metres), and "g" is lower case only ("3G" is a
// network).
var (
	lengthUnit = measure(`mm|cm|km|metres?|meters?|millimetres?|millimeters?|centimetres?|centimeters?|kilometres?|kilometers?|feet|foot|ft|inch|inches|yards?|miles?`)
	speedUnit  = measure(`km/h|km/hr|kmh|kph|mph|m/s|knots?|mbps|kbps|gbps|(?:metres?|meters?|kilometres?|kilometers?|km|miles?) (?:an|a|per) (?:hour|second)`)
	weightUnit = measure(`mg|(?-i:g)|kg|kilos?|grams?|kilograms?|tonnes?|tons?|pounds?|lbs?|ounces?|oz`)
	// metres is a length in a bare "m" followed by what it measures or its
	// conversion: "400 m wide", "5,199 m (17,057 ft)", "a 2m-long".
	metres = regexp.MustCompile(`(?i)(?:^|[^£$€\d.,\pL])\d[\d,.]*\s?m(?:\s+(?:wide|long|high|tall|deep|thick|across|above|below|away)\b|\s*\(|-\pL)`)
	// rate is a percentage: how high, how far or how fast a figure is.
	rate = regexp.MustCompile(`(?i)\d\s?(?:%|percent\b|per cent\b)`)
)

// measure returns a pattern for a number followed by one of units.
func measure(units string) *regexp.Regexp {
	const number = `(?:^|[^£$€\d.,\pL])(?:\d[\d,.]*|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|hundred|a few|several)`
	return regexp.MustCompile(`(?i)` + number + `(?:\s|-)?(?:` + units + `)(?:\b|$)`)
}

var (
	// numberWords are the words that state a quantity; "one" is not
	// among them, being mostly a pronoun or a determiner ("on one hand",
	// "one of the", "one country").
	numberWords = []string{"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
		"eleven", "twelve", "twenty", "thirty", "forty", "fifty", "hundred", "hundreds", "thousand",
		"thousands", "million", "millions", "billion", "billions", "trillion", "dozen", "dozens", "half",
		"percent"}
	months = []string{"january", "february", "march", "april", "may", "june", "july", "august",
		"september", "october", "november", "december"}
	timeWords = []string{"century", "centuries", "decade", "decades", "years", "months", "weeks", "days",
		"ago", "yesterday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
		"immediately"}
	yearLeads = []string{"in", "since", "by", "from", "until", "till", "before", "after", "during", "of"}
	// reasonCue finds a clause that gives a reason or a purpose.
	reasonCue = regexp.MustCompile(`(?i)\b(because|since|due to|owing to|thanks to|as a result|result of|in order to|so that|so as to|reason|caused|causes|led to|leads to|aims? to|aimed|to help|to (?:cool|calm|counter|smooth|ease|build|protect|ensure|avoid|prevent|improve|support|strengthen|secure|reduce|increase))\b`)
)

// hasQuantity reports a number or a number word. A year after a word
// that dates it ("in 2023", "May 1992") is a time, not a quantity.
func hasQuantity(s string) bool {
	words := corpus.Words(s)
	for i, w := range words {
		if slices.Contains(numberWords, w) {
			return true
		}
		if strings.ContainsFunc(w, unicode.IsDigit) && !(i > 0 && isYear(w) && datesAYear(words[i-1])) {
			return true
		}
	}
	return false
}

// isYear reports a four-digit number from 1000 to 2099.
func isYear(w string) bool {
	return len(w) == 4 && (w[0] == '1' || w[0] == '2' && w[1] == '0') &&
		strings.IndexFunc(w, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// datesAYear reports a word that, before a year, makes it a date.
func datesAYear(w string) bool {
	return slices.Contains(months, w) || slices.Contains(yearLeads, w)
}

// hasTime reports a year, a month, or a word of time or duration.
func hasTime(s string) bool {
	for _, w := range corpus.Words(s) {
		if len(w) >= 3 && len(w) <= 4 && strings.IndexFunc(w, func(r rune) bool { return r < '0' || r > '9' }) < 0 ||
			slices.Contains(months, w) || slices.Contains(timeWords, w) {
			return true
		}
	}
	return false
}

// hasNewName reports whether s has a capitalised word whose term the
// question does not already contain: a candidate name. The first word of
// s, capitalised anyway, counts only if its term is among names.
func hasNewName(s string, q, names map[string]bool) bool {
	for i, f := range strings.Fields(s) {
		f = strings.TrimFunc(f, func(r rune) bool { return !unicode.IsLetter(r) })
		if f == "" || !unicode.IsUpper([]rune(f)[0]) {
			continue
		}
		ts := terms(f)
		if len(ts) > 0 && !q[ts[0]] && (i > 0 || names[ts[0]]) {
			return true
		}
	}
	return false
}

// knownNames returns the terms of the words capitalised inside a sentence
// of text (not at its start), and of the title's capitalised words: what
// is a name in that passage.
func knownNames(text, title string) map[string]bool {
	names := make(map[string]bool)
	add := func(s string, skipFirst bool) {
		for i, f := range strings.Fields(s) {
			f = strings.TrimFunc(f, func(r rune) bool { return !unicode.IsLetter(r) })
			if (i == 0 && skipFirst) || f == "" || !unicode.IsUpper([]rune(f)[0]) {
				continue
			}
			for _, t := range terms(f) {
				names[t] = true
			}
		}
	}
	for _, sp := range corpus.Sentences(text) {
		add(text[sp.Start:sp.End], true)
	}
	add(title, false)
	return names
}
