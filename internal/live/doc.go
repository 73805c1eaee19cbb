// Package live carries changes of the competition to open pages as they happen. Database
// triggers NOTIFY every change of scores, deductions, certifications, assignments and device
// reports on one channel; each instance LISTENs on one connection (package pglisten), and its Hub
// fans the events out to the subscribers of the category (or contest) they concern. ServeSSE
// writes a subscription to a client as server-sent events.
//
// An event names what changed by ids only; the page refetches what it shows. That keeps every
// payload far below NOTIFY's 8000-byte limit and never puts personal data on the wire.
package live
