package pecapiku_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pecapiku/pecapiku/pecatest"
)

// Station is a row of the demonstration's dataset.
type Station struct {
	Name     string
	Rainfall []float64 // millimetres, January to December
}

// loadStations stands for a slow step: a download, a query, a simulation.
// It takes two seconds; its result is recorded under
// testdata/.pecapiku/TestReport/stations.json and committed.
func loadStations() ([]Station, error) {
	time.Sleep(2 * time.Second)
	var stations []Station
	for i, name := range []string{"Auckland", "Bergen", "Cherrapunji", "Dakar"} {
		s := Station{Name: name}
		for month := 0; month < 12; month++ {
			s.Rainfall = append(s.Rainfall, float64((i+1)*(month*37%101+11)))
		}
		stations = append(stations, s)
	}
	return stations, nil
}

// report renders the stations, wettest first.
func report(stations []Station) string {
	type total struct {
		name string
		mm   float64
	}
	var totals []total
	for _, s := range stations {
		t := total{name: s.Name}
		for _, mm := range s.Rainfall {
			t.mm += mm
		}
		totals = append(totals, t)
	}
	sort.Slice(totals, func(i, j int) bool { return totals[i].mm > totals[j].mm })
	var b strings.Builder
	for _, t := range totals {
		fmt.Fprintf(&b, "%-12s %6.0f mm\n", t.name, t.mm)
	}
	return b.String()
}

// TestReport is the README's demonstration. Run it as it is and it replays
// the committed dataset in milliseconds; with PECAPIKU_ACCESS=e it executes
// the slow step instead, and with PECAPIKU_ACCESS=ew it records it again.
func TestReport(t *testing.T) {
	stations := pecatest.Memo(t, "stations", loadStations)
	pecatest.Golden(t, "report", report(stations))
}
