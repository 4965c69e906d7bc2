package runlog

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/wrnc/wrnc/runtime/ckpt"
)

// WriteCSV writes header and rows as a CSV file at path (RFC 4180 quoting, "\n" line
// ends), atomically: path holds either its old content or all of the new one. Every row
// must have as many cells as header.
func WriteCSV(path string, header []string, rows [][]string) error {
	for i, r := range rows {
		if len(r) != len(header) {
			return fmt.Errorf("%s: row %d has %d cells, the header %d", path, i+1, len(r), len(header))
		}
	}
	return ckpt.WriteFileAtomic(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.Write(header); err != nil {
			return err
		}
		if err := cw.WriteAll(rows); err != nil {
			return err
		}
		return cw.Error()
	})
}

// FormatFloat formats v for a CSV cell so that strconv.ParseFloat gives v back exactly;
// NaN and the infinities, which log.jsonl writes as null, give an empty cell.
func FormatFloat(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
