// yaml-oracle reads a YAML stream on stdin with gopkg.in/yaml.v2, the reader under
// sigs.k8s.io/yaml (Helm, kubectl), and prints its documents as one JSON array, map keys
// converted to strings as sigs.k8s.io/yaml's YAMLToJSON converts them. A document yaml.v2
// refuses exits 1 with the reader's error on stderr.
//
// Build: GO111MODULE=off GOPATH=/usr/share/gocode go build (Debian golang-gopkg-yaml.v2-dev).
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"gopkg.in/yaml.v2"
)

func convert(v interface{}) (interface{}, error) {
	switch t := v.(type) {
	case map[interface{}]interface{}:
		out := make(map[string]interface{}, len(t))
		for k, item := range t {
			var key string
			switch kt := k.(type) {
			case string:
				key = kt
			case int:
				key = strconv.Itoa(kt)
			case int64:
				key = strconv.FormatInt(kt, 10)
			case uint64:
				key = strconv.FormatUint(kt, 10)
			case float64:
				key = strconv.FormatFloat(kt, 'g', -1, 64)
			case bool:
				key = strconv.FormatBool(kt)
			default:
				return nil, fmt.Errorf("unsupported map key %#v", k)
			}
			c, err := convert(item)
			if err != nil {
				return nil, err
			}
			out[key] = c
		}
		return out, nil
	case []interface{}:
		out := make([]interface{}, len(t))
		for i, item := range t {
			c, err := convert(item)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	default:
		return v, nil
	}
}

func main() {
	decoder := yaml.NewDecoder(os.Stdin)
	docs := []interface{}{}
	for {
		var doc interface{}
		err := decoder.Decode(&doc)
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		c, err := convert(doc)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		docs = append(docs, c)
	}
	if err := json.NewEncoder(os.Stdout).Encode(docs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
