package qr

import (
	"bytes"
	"image/png"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPNGIsAValidImageOfTheSize(t *testing.T) {
	t.Parallel()
	b, err := PNG("https://scores.example.org/sign-in/link?token=em_" + strings.Repeat("A", 43))
	require.NoError(t, err)
	require.Less(t, len(b), 20_000, "a small image")
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	require.Equal(t, Size, img.Bounds().Dx())
	require.Equal(t, Size, img.Bounds().Dy())
	// Black modules and white background both present.
	var dark, light int
	for y := 0; y < Size; y += 4 {
		for x := 0; x < Size; x += 4 {
			r, _, _, _ := img.At(x, y).RGBA()
			if r < 0x8000 {
				dark++
			} else {
				light++
			}
		}
	}
	require.NotZero(t, dark)
	require.NotZero(t, light)
}

func TestPNGRefusesLongContent(t *testing.T) {
	t.Parallel()
	_, err := PNG(strings.Repeat("x", 1025))
	require.ErrorIs(t, err, ErrTooLong)
}
