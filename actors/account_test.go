package actors_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/actors"
	"github.com/commonroom/commonroom/internal/errkind"
)

func TestCreateLocal(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada := e.local(t, "Ada_L", func(nl *actors.NewLocal) {
			nl.Note = "Teaches <b>maths</b>.\n\nSee https://ada.example/notes & more"
			nl.Locked = true
		})
		if ada.IRI != testBase+"/users/Ada_L" || ada.Inbox != ada.IRI+"/inbox" || ada.SharedInbox != testBase+"/inbox" ||
			ada.Followers != ada.IRI+"/followers" || ada.Featured != ada.IRI+"/featured" || ada.URL != testBase+"/@Ada_L" {
			t.Errorf("IRIs: %+v", ada)
		}
		wantNote := `<p>Teaches &lt;b&gt;maths&lt;/b&gt;.</p><p>See <a href="https://ada.example/notes" rel="nofollow noopener noreferrer">https://ada.example/notes</a> &amp; more</p>`
		if ada.Note != wantNote {
			t.Errorf("note = %q\nwant   %q", ada.Note, wantNote)
		}
		got, err := e.svc.LocalAccount(ctx, "ada_l")
		if err != nil || got.ID != ada.ID || !got.Locked || got.Domain != "" || got.UserID != ada.UserID {
			t.Fatalf("LocalAccount = %+v, %v", got, err)
		}
		if !got.CreatedAt.Equal(testTime) {
			t.Errorf("created_at %v", got.CreatedAt)
		}
		if byUser, err := e.svc.AccountByUser(ctx, ada.UserID); err != nil || byUser.ID != ada.ID {
			t.Errorf("AccountByUser = %v, %v", byUser, err)
		}
		if _, err := e.keys.mem.LocalKeys(ctx, ada.IRI); err != nil {
			t.Errorf("no keys made: %v", err)
		}
	})
}

func TestCreateLocalRefusesBadInput(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.local(t, "ada")
		tests := []struct {
			name string
			nl   actors.NewLocal
			kind errkind.Kind
		}{
			{"empty name", actors.NewLocal{}, errkind.Invalid},
			{"long name", actors.NewLocal{Username: strings.Repeat("a", 31)}, errkind.Invalid},
			{"bad characters", actors.NewLocal{Username: "ada lovelace"}, errkind.Invalid},
			{"taken, other case", actors.NewLocal{Username: "ADA"}, errkind.Conflict},
			{"taken by a group", actors.NewLocal{Username: "Ada", Kind: actors.KindGroup}, errkind.Conflict},
			{"unknown kind", actors.NewLocal{Username: "x", Kind: "robot"}, errkind.Invalid},
			{"no such user", actors.NewLocal{Username: "ghost", UserID: 12345}, errkind.Conflict},
			{"group with user", actors.NewLocal{Username: "club", Kind: actors.KindGroup, UserID: 1}, errkind.Invalid},
			{"long display name", actors.NewLocal{Username: "bob", DisplayName: strings.Repeat("x", 31)}, errkind.Invalid},
			{"long bio", actors.NewLocal{Username: "bob", Note: strings.Repeat("x", 501)}, errkind.Invalid},
			{"control characters", actors.NewLocal{Username: "bob", DisplayName: "a\x00b"}, errkind.Invalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := count(t, e.db, "actors")
				_, err := e.svc.CreateLocal(ctx, tt.nl)
				if errkind.Of(err) != tt.kind {
					t.Fatalf("err = %v (%v), want %v", err, errkind.Of(err), tt.kind)
				}
				if n := count(t, e.db, "actors"); n != before {
					t.Errorf("%d actors stored, want %d", n, before)
				}
			})
		}
		t.Run("same sign-in account twice", func(t *testing.T) {
			ada, _ := e.svc.LocalAccount(ctx, "ada")
			_, err := e.svc.CreateLocal(ctx, actors.NewLocal{Username: "ada2", UserID: ada.UserID})
			if errkind.Of(err) != errkind.Conflict {
				t.Fatalf("err = %v, want Conflict", err)
			}
		})
		t.Run("key store fails", func(t *testing.T) {
			e.keys.Err = errors.New("disk full")
			defer func() { e.keys.Err = nil }()
			before := count(t, e.db, "actors")
			if _, err := e.svc.CreateLocal(ctx, actors.NewLocal{Username: "keyless"}); err == nil {
				t.Fatal("created an actor without keys")
			}
			if n := count(t, e.db, "actors"); n != before {
				t.Errorf("actor stored without keys")
			}
		})
	})
}

func TestUpdateProfile(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada := e.local(t, "ada")
		name, note := "Ada Lovelace", "Hi <script>alert(1)</script>"
		fields := []actors.Field{{Name: "Site", Value: "https://ada.example"}, {Name: "Subject", Value: "<i>maths</i>"}}
		locked := true
		got, err := e.svc.UpdateProfile(ctx, ada.ID, actors.ProfileUpdate{DisplayName: &name, Note: &note, Fields: &fields, Locked: &locked})
		if err != nil {
			t.Fatal(err)
		}
		if got.DisplayName != name || !got.Locked || strings.Contains(got.Note, "<script") {
			t.Errorf("profile %+v", got)
		}
		fs := got.Fields()
		if len(fs) != 2 || fs[0].Value != `<a href="https://ada.example" rel="nofollow noopener noreferrer">https://ada.example</a>` || fs[1].Value != "&lt;i&gt;maths&lt;/i&gt;" {
			t.Errorf("fields %+v", fs)
		}
		upd := e.pub.last(t)
		if upd.Type() != "Update" || upd.Object("object").ID() != ada.IRI || upd.IRI("actor") != ada.IRI {
			t.Errorf("published %s of %s", upd.Type(), upd.IRI("object"))
		}
		if cc := upd.IRIs("cc"); len(cc) != 1 || cc[0] != ada.Followers {
			t.Errorf("Update cc = %v", cc)
		}

		tooMany := make([]actors.Field, 5)
		for i := range tooMany {
			tooMany[i] = actors.Field{Name: fmt.Sprint(i), Value: "v"}
		}
		bad := "ftp://x"
		for name, p := range map[string]actors.ProfileUpdate{
			"too many fields": {Fields: &tooMany},
			"nameless field":  {Fields: &[]actors.Field{{Value: "v"}}},
			"bad avatar":      {AvatarURL: &bad},
		} {
			t.Run(name, func(t *testing.T) {
				e.pub.reset()
				_, err := e.svc.UpdateProfile(ctx, ada.ID, p)
				if errkind.Of(err) != errkind.Invalid {
					t.Fatalf("err = %v, want Invalid", err)
				}
				if len(e.pub.types()) != 0 {
					t.Error("published an Update for a refused change")
				}
				stored, _ := e.svc.Account(ctx, ada.ID)
				if len(stored.Fields()) != 2 || stored.AvatarURL != "" {
					t.Errorf("stored %+v", stored)
				}
			})
		}
		t.Run("publish fails, then the outbox is flushed", func(t *testing.T) {
			e.pub.reset()
			e.pub.Err = errors.New("queue down")
			other := "Someone else"
			if _, err := e.svc.UpdateProfile(ctx, ada.ID, actors.ProfileUpdate{DisplayName: &other}); err != nil {
				t.Fatalf("the change itself failed: %v", err)
			}
			stored, _ := e.svc.Account(ctx, ada.ID)
			if stored.DisplayName != other {
				t.Errorf("display name %q", stored.DisplayName)
			}
			if n, _ := e.svc.PendingOutbox(ctx); n != 1 {
				t.Fatalf("%d activities pending, want 1", n)
			}
			if _, err := e.svc.FlushOutbox(ctx); err == nil {
				t.Error("flush with the engine down did not fail")
			}
			e.pub.Err = nil
			if n, err := e.svc.FlushOutbox(ctx); err != nil || n != 1 {
				t.Fatalf("FlushOutbox = %d, %v", n, err)
			}
			if got := e.pub.types(); len(got) != 1 || got[0] != "Update" {
				t.Errorf("published %v", got)
			}
			if n, _ := e.svc.PendingOutbox(ctx); n != 0 {
				t.Errorf("%d still pending", n)
			}
		})
	})
}
