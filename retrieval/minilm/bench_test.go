package minilm

import (
	"context"
	"testing"
)

// benchTexts is a question and eight candidate sentences of about 30 tokens,
// the load the answerer puts on the encoder per question.
var benchTexts = []string{
	"How much oil does Israel get from Azerbaijan, and how is it shipped?",
	"Azerbaijan supplies about 60% of the oil that Israel needs, shipped through the Baku–Tbilisi–Ceyhan pipeline to the Turkish coast.",
	"In return, Israeli companies have sold drones, missile-defence systems and satellite technology to Baku over the past decade.",
	"Trade between the two countries has grown every year since the early 2000s, according to figures from both governments.",
	"Officials on both sides describe the relationship as strategic, although it is rarely discussed in public by either of them.",
	"The central bank raised interest rates by a quarter of a percentage point on Thursday, its third increase this year.",
	"Economists had expected the move, but the governor's warning that further rises could follow surprised the markets.",
	"Photosynthesis is the process by which green plants, algae and some bacteria turn light into chemical energy.",
	"Protesters outside the hotel, some of whom had travelled overnight, said they would keep up the pressure on the talks.",
}

// BenchmarkEmbed encodes a question and eight sentences in one call, past
// the cache (as for a question whose sentences are new); run with -cpu 1,2
// to see the parallel speed-up.
func BenchmarkEmbed(b *testing.B) {
	e, err := New()
	if err != nil {
		b.Fatal(err)
	}
	tokens := 0
	for _, t := range benchTexts {
		tokens += len(e.Tokenize(t))
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := e.encodeAll(ctx, benchTexts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(tokens), "tokens/op")
}

// BenchmarkNew measures parsing and dequantising the embedded model.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(); err != nil {
			b.Fatal(err)
		}
	}
}
