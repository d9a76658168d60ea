// cron-oracle judges CronJob schedules the way Kubernetes does, with the code Kubernetes
// vendors: robfig/cron v3.0.1 (Debian golang-github-robfig-cron-dev). For each input line
// `<schedule as a JSON string><TAB><time zone, or empty for the controller's UTC>` it prints
//
//	refused<TAB><error>               the API server refuses the CronJob
//	never                             Next finds no run (the controller never schedules)
//	stall<TAB><from><TAB><to>         Next does not move forward from <from>, or gives up
//	                                  (zero time) after it: the controller stops scheduling
//	gap<TAB><seconds><TAB><from><TAB><to>
//	                                  the longest time between two consecutive runs (the
//	                                  first such pair), walking Next from 2026-01-01T00:00Z
//	                                  until a run at or after 2031-01-01T00:00Z
//	                                  (for `@every`, whose steps are all alike, at most
//	                                  10 000 steps)
//
// Instants are RFC 3339 in the schedule's zone. Time zones come from the system zoneinfo
// (run it with ZONEINFO=/usr/share/zoneinfo to pin that).
//
// Build: GO111MODULE=off GOPATH=/usr/share/gocode go build -o <out> ./tests/cron-oracle
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron"
)

// validate is what pkg/apis/batch/validation does with spec.schedule of a new CronJob:
// required, parsed raw with ParseStandard, and no TZ anywhere in it.
func validate(schedule string) (err error) {
	if len(schedule) == 0 {
		return fmt.Errorf("Required value")
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	if _, err := cron.ParseStandard(schedule); err != nil {
		return err
	}
	if strings.Contains(schedule, "TZ") {
		return fmt.Errorf("cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
	}
	return nil
}

// controllerSchedule is what pkg/controller/cronjob parses: formatSchedule prefixes
// `TZ=<timeZone> ` when spec.timeZone is set.
func controllerSchedule(schedule, zone string) (cron.Schedule, *time.Location, error) {
	if zone == "" {
		s, err := cron.ParseStandard(schedule)
		return s, time.UTC, err
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, nil, err
	}
	s, err := cron.ParseStandard(fmt.Sprintf("TZ=%s %s", zone, schedule))
	return s, loc, err
}

var (
	start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end   = time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
)

func judge(schedule, zone string) string {
	if err := validate(schedule); err != nil {
		return "refused\t" + oneLine(err.Error())
	}
	sched, loc, err := controllerSchedule(schedule, zone)
	if err != nil {
		return "refused\t" + oneLine(err.Error())
	}
	format := func(t time.Time) string { return t.In(loc).Format(time.RFC3339) }
	run := sched.Next(start.In(loc))
	if run.IsZero() {
		return "never"
	}
	var longest time.Duration = -1
	var from, to time.Time
	steps := 0
	for {
		next := sched.Next(run)
		if next.IsZero() || !next.After(run) {
			if next.IsZero() {
				return "stall\t" + format(run) + "\tzero"
			}
			return "stall\t" + format(run) + "\t" + format(next)
		}
		if gap := next.Sub(run); gap > longest {
			longest, from, to = gap, run, next
		}
		run = next
		if !run.Before(end) {
			break
		}
		// ConstantDelaySchedule.Next is t.Add(Delay): every step the same. `@every 1s` would
		// take 158 million steps to reach 2031.
		if _, constant := sched.(cron.ConstantDelaySchedule); constant && steps > 10000 {
			break
		}
		steps++
	}
	return fmt.Sprintf("gap\t%d\t%s\t%s", int64(longest/time.Second), format(from), format(to))
}

func oneLine(s string) string {
	return strings.NewReplacer("\n", `\n`, "\t", `\t`, "\r", `\r`).Replace(s)
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	type row struct{ schedule, zone string }
	var rows []row
	for in.Scan() {
		line := in.Text()
		quoted, zone, ok := strings.Cut(line, "\t")
		var schedule string
		if !ok || json.Unmarshal([]byte(quoted), &schedule) != nil {
			fmt.Fprintf(os.Stderr, "cron-oracle: bad input line %q (want a JSON string, a tab, a zone)\n", line)
			os.Exit(2)
		}
		rows = append(rows, row{schedule, zone})
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "cron-oracle:", err)
		os.Exit(1)
	}
	// Rows are independent: judged on every core, printed in input order.
	verdicts := make([]string, len(rows))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				verdicts[i] = judge(rows[i].schedule, rows[i].zone)
			}
		}()
	}
	for i := range rows {
		next <- i
	}
	close(next)
	wg.Wait()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for _, v := range verdicts {
		fmt.Fprintln(out, v)
	}
}
