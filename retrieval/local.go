package retrieval

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// DefaultLocalDims is the vector size NewLocal uses when given 0. Fewer
// dimensions mean more hash collisions; more mean more memory and slower
// vector queries. BenchmarkLocalRecall measures the trade-off on SQuAD dev.
const DefaultLocalDims = 384

// localVersion names the feature scheme in Model. Any change to how vectors
// are computed (terms, features, hashing, weights) must bump it, so that
// vectors cached under the old scheme are never mixed with new ones.
const localVersion = "local-v2"

// localTrigramWeight is the weight of a character trigram relative to a
// whole term.
const localTrigramWeight = 0.5

// LocalEmbedder is the default, offline embedder: hashed lexical features
// computed in process, with no model download and no key. For each text it
// takes the index terms (see Terms: lowercased, accents folded, stopwords
// removed, Snowball-stemmed) and, as features, each term and each byte
// trigram of each term of three or more bytes (so "photosynthesis" and
// "photosynthetic" share most features even where their stems differ).
// A feature seen tf times weighs 1+ln(tf), halved for trigrams, and is added
// with a pseudo-random sign to one of the vector's dimensions, both chosen
// by a fixed 64-bit FNV-1a hash of the feature (signed feature hashing); the
// vector is then scaled to unit length. Equal texts get equal vectors in every process.
//
// Cosine similarity therefore measures shared vocabulary. It is lexical only:
// no synonyms or paraphrases ("car" and "automobile" are unrelated), no word
// senses, no weighting by how rare a word is (the keyword index does that),
// English stemming only, and texts in different languages do not meet. Hash
// collisions add noise that grows as the dimension shrinks. Adjacent-term bigrams were
// measured and left out: at these sizes their extra collisions cost more
// than the phrase matches gained. A text with no terms (empty, punctuation
// or only stopwords) gets one fixed unit vector, the first basis vector, so
// that cosine stays defined; such texts resemble each other and little else.
//
// It is safe for concurrent use.
type LocalEmbedder struct {
	dims int
}

// NewLocal returns a LocalEmbedder producing vectors of dims dimensions;
// dims <= 0 means DefaultLocalDims.
func NewLocal(dims int) *LocalEmbedder {
	if dims <= 0 {
		dims = DefaultLocalDims
	}
	return &LocalEmbedder{dims: dims}
}

// Model returns the scheme version and size, e.g. "local-v1-384".
func (e *LocalEmbedder) Model() string {
	return localVersion + "-" + strconv.Itoa(e.dims)
}

// localCheckEvery is how many texts Embed embeds between checks of its
// context: about a millisecond of work.
const localCheckEvery = 16

// Embed returns one unit vector per text, in order. It fails only when ctx
// is done.
func (e *LocalEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	var (
		st    stemmer
		ts    []string
		feats []uint64
	)
	backing := make([]float32, len(texts)*e.dims)
	out := make([][]float32, len(texts))
	for i, text := range texts {
		if i%localCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("local embedder: %w", err)
			}
		}
		v := backing[i*e.dims : (i+1)*e.dims : (i+1)*e.dims]
		ts = st.appendTerms(ts[:0], text)
		feats = appendFeatures(feats[:0], ts)
		e.fill(v, feats)
		out[i] = v
	}
	return out, nil
}

// A feature is a 64-bit hash: bit 63 is its sign, bit 62 marks a trigram,
// and the remaining bits choose its bucket.
const (
	featSign    = 1 << 63
	featTrigram = 1 << 62
	featBucket  = featTrigram - 1
)

// appendFeatures appends the features of the terms ts: each term, and each
// byte trigram of each term.
func appendFeatures(dst []uint64, ts []string) []uint64 {
	for _, t := range ts {
		dst = append(dst, mix(fnv1a(fnvOffset, t))&^featTrigram)
		for k := 0; k+3 <= len(t); k++ {
			dst = append(dst, mix(fnv1a(fnvTrigramOffset, t[k:k+3]))|featTrigram)
		}
	}
	return dst
}

// fill sets v, which is zero, to the unit-length signed-hash embedding of
// feats, which it sorts.
func (e *LocalEmbedder) fill(v []float32, feats []uint64) {
	slices.Sort(feats)
	dims := uint64(e.dims)
	for i := 0; i < len(feats); {
		j := i + 1
		for j < len(feats) && feats[j] == feats[i] {
			j++
		}
		f := feats[i]
		w := float32(1 + math.Log(float64(j-i)))
		if f&featTrigram != 0 {
			w *= localTrigramWeight
		}
		if f&featSign != 0 {
			w = -w
		}
		v[(f&featBucket)%dims] += w
		i = j
	}
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum == 0 {
		// No terms, or (vanishingly rarely) features that cancelled out.
		clear(v)
		v[0] = 1
		return
	}
	inv := float32(1 / math.Sqrt(sum))
	for i := range v {
		v[i] *= inv
	}
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
	// fnvTrigramOffset starts trigram hashes in their own space: it is
	// the FNV-1a state after one 0x01 byte, so that a three-byte term and
	// its only trigram hash differently.
	fnvTrigramOffset = 12638152016183539244
)

// fnv1a continues a 64-bit FNV-1a hash h over s.
func fnv1a(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// mix spreads the bits of an FNV hash (the murmur3 finaliser), so that both
// the bucket (low bits) and the sign (top bit) depend on every input byte.
func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}
