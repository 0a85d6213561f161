package streams_test

import (
	"fmt"

	"github.com/commonroom/commonroom/streams"
)

// Register a vocabulary while the program runs, then build, serialize and
// read back an object that uses it.
func ExampleRegistry_Register() {
	reg := streams.NewStandardRegistry()
	err := reg.Register(streams.Vocabulary{
		Name:      "Quizzes",
		Namespace: "https://quiz.example/ns#",
		Prefix:    "quiz",
		Types:     []streams.TypeDef{{Name: "Quiz", Bases: []string{"Question"}}},
		Properties: []streams.PropertyDef{
			{Name: "passMark", Kind: streams.KindInteger, Functional: true},
			{Name: "timeLimit", Kind: streams.KindDuration, Functional: true},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	q := reg.New("Quiz")
	q.SetID("https://school.example/quizzes/1")
	_ = q.Set("name", streams.String("Fractions"))
	_ = q.Set("passMark", streams.Int(7))
	_ = q.Set("timeLimit", streams.String("PT15M"))
	data, _ := q.MarshalJSON()
	fmt.Println(string(data))

	back, err := reg.Parse(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	pass, _ := back.Int("passMark")
	limit, _ := back.Duration("timeLimit")
	fmt.Println(back.Type(), back.Is("Question"), back.IsActivity(), pass, limit)
	// Output:
	// {"@context":["https://www.w3.org/ns/activitystreams",{"quiz":"https://quiz.example/ns#","Quiz":"quiz:Quiz","passMark":"quiz:passMark","timeLimit":"quiz:timeLimit"}],"type":"Quiz","id":"https://school.example/quizzes/1","name":"Fractions","passMark":7,"timeLimit":"PT15M"}
	// Quiz true true 7 15m0s
}

// Read a Mastodon Note with its toot terms: sensitive, blurhash and
// focalPoint on an attachment, and a custom Emoji tag.
func Example_mastodonNote() {
	doc := []byte(`{
	  "@context": ["https://www.w3.org/ns/activitystreams", {
	    "sensitive": "as:sensitive", "toot": "http://joinmastodon.org/ns#",
	    "Emoji": "toot:Emoji", "blurhash": "toot:blurhash",
	    "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"}}],
	  "id": "https://social.example/users/ada/statuses/1",
	  "type": "Note",
	  "attributedTo": "https://social.example/users/ada",
	  "to": ["https://www.w3.org/ns/activitystreams#Public"],
	  "sensitive": true,
	  "summary": "maths",
	  "content": "<p>Counting with :abacus:</p>",
	  "contentMap": {"en": "<p>Counting with :abacus:</p>"},
	  "attachment": [{"type": "Document", "mediaType": "image/png",
	    "url": "https://social.example/media/1.png",
	    "blurhash": "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH", "focalPoint": [0.5, -0.25]}],
	  "tag": [{"type": "Emoji", "name": ":abacus:",
	    "icon": {"type": "Image", "url": "https://social.example/emoji/abacus.png"}}]
	}`)
	note, err := streams.Parse(doc)
	if err != nil {
		fmt.Println(err)
		return
	}
	sensitive, _ := note.Bool("sensitive")
	fmt.Println(note.Type(), note.IRI("attributedTo"), streams.IsPublic(note.IRIs("to")[0]))
	fmt.Println("sensitive:", sensitive, "cw:", note.String("summary"))
	fmt.Println("en:", note.LangMap("content")["en"])
	media := note.Object("attachment")
	fmt.Println(media.String("blurhash"), len(media.Values("focalPoint")))
	emoji := note.Object("tag")
	fmt.Println(emoji.Type(), emoji.String("name"), emoji.Object("icon").IRI("url"))
	// Output:
	// Note https://social.example/users/ada true
	// sensitive: true cw: maths
	// en: <p>Counting with :abacus:</p>
	// UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH 2
	// Emoji :abacus: https://social.example/emoji/abacus.png
}

// Read what an inbox needs from an activity.
func ExampleObject_IRI() {
	act, err := streams.Parse([]byte(`{"@context":"https://www.w3.org/ns/activitystreams",
		"id":"https://a.example/activities/1","type":"Follow",
		"actor":{"type":"Person","id":"https://a.example/users/ann"},
		"object":"https://b.example/users/bob"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(act.IsActivity(), act.IRI("actor"), act.IRI("object"), act.Object("object") == nil)
	// Output: true https://a.example/users/ann https://b.example/users/bob true
}
