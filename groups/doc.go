// Package groups will hold group actors made of several users: communities
// with members and roles (admin, moderator, member), join, leave, invite and
// approve, the FEP-1b12 relay, federated moderation, and the educator content
// that groups hold: collections and resources.
package groups
