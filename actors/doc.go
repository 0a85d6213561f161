// Package actors will hold local and remote people: accounts, profiles, keys,
// follows and follow requests, blocks and mutes, what a person publishes
// (notes, replies, likes, boosts, bookmarks) and what they receive (home
// timeline, notifications). It implements the pub hooks for these activities.
package actors
