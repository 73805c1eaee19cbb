// Package qr draws QR codes as PNG images (with github.com/skip2/go-qrcode), for the links people
// open with a phone: judges' sign-in links and audience links.
package qr

import (
	"errors"

	qrcode "github.com/skip2/go-qrcode"
)

// Size is the width and height of the image in pixels: readable from a printed sheet or a screen.
const Size = 320

// maxContent bounds what is encoded: a link, not a document (a QR code of medium recovery holds
// about 2300 bytes, and a large one is hard to scan).
const maxContent = 1024

// ErrTooLong is content longer than a link should be.
var ErrTooLong = errors.New("qr: content longer than 1024 bytes")

// PNG returns a QR code of content, with medium error correction (a smudged print still scans).
func PNG(content string) ([]byte, error) {
	if len(content) > maxContent {
		return nil, ErrTooLong
	}
	return qrcode.Encode(content, qrcode.Medium, Size)
}
