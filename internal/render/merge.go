package render

import (
	"encoding/json"
	"slices"
	"strconv"
	"sync"
)

// Merge returns data for Execute: base with over laid on top, over's
// members winning and objects present in both merged recursively, as a
// profile override is laid over a stored profile for one message. Neither
// is modified. The merged object lists base's members first (a map's in
// sorted order) and then over's new ones in over's order, as
// Object.assign(base, over) would; it is built as one decoded object (two
// allocations, no map), and only when both have members: otherwise Merge
// returns the one that has (base when neither has).
func Merge(base map[string]any, over Object) any {
	if over.Len() == 0 {
		return base
	}
	if len(base) == 0 {
		return over
	}
	b := mergers.Get().(*merger)
	defer func() {
		clear(b.keys[:cap(b.keys)])
		b.nodes, b.keys, b.built = nil, b.keys[:0], b.built[:0]
		mergers.Put(b)
	}()
	b.nodes = make([]jnode, 0, countAny(base)+int(over.n.span))
	b.merge("", base, over.n)
	nodes := b.nodes
	for i := range nodes {
		if nd := &nodes[i]; nd.k == kObj || nd.k == kArr {
			nd.kids = nodes[i+1 : i+int(nd.span) : i+int(nd.span)]
		}
	}
	linkMembers(nodes)
	for _, i := range b.built {
		nodes[i].indexMembers()
	}
	return Object{n: &nodes[0]}
}

// mergers pools the scratch space of Merge: a merge then allocates its
// nodes alone.
var mergers = sync.Pool{New: func() any { return new(merger) }}

// noMembers is an object without members, for a map merged with nothing.
var noMembers = &jnode{k: kObj}

// merger builds a merged object's nodes.
type merger struct {
	nodes []jnode
	keys  []string // sorted map keys of the objects being built, stacked
	built []int    // objects made here, which need their index
}

func (b *merger) merge(key string, base map[string]any, over *jnode) {
	at := len(b.nodes)
	b.nodes = append(b.nodes, jnode{key: key, k: kObj})
	b.built = append(b.built, at)
	from := len(b.keys)
	for k := range base {
		b.keys = append(b.keys, k)
	}
	slices.Sort(b.keys[from:])
	to := len(b.keys)
	count := int32(0)
	for i := from; i < to; i++ {
		k := b.keys[i]
		count++
		if om, ok := over.member(k); ok {
			if bm, isMap := base[k].(map[string]any); isMap && om.k == kObj && len(bm) > 0 {
				b.merge(k, bm, om)
				continue
			}
			b.copy(k, om)
			continue
		}
		b.add(k, base[k])
	}
	b.keys = b.keys[:from]
	for it := over.members(); ; {
		om, ok := it.next()
		if !ok {
			break
		}
		if _, inBase := base[om.key]; !inBase {
			count++
			b.copy(om.key, om)
		}
	}
	nd := &b.nodes[at]
	nd.len, nd.span = count, int32(len(b.nodes)-at)
}

// copy appends a decoded value and its descendants under name key.
func (b *merger) copy(key string, nd *jnode) {
	at := len(b.nodes)
	b.nodes = append(b.nodes, *nd)
	b.nodes[at].key, b.nodes[at].raw = key, nil
	b.nodes = append(b.nodes, nd.kids...)
}

// add appends a value of the encoding/json data model.
func (b *merger) add(key string, v any) {
	at := len(b.nodes)
	b.nodes = append(b.nodes, jnode{key: key, span: 1})
	nd := &b.nodes[at]
	switch x := v.(type) {
	case nil:
		nd.k = kNull
	case bool:
		nd.k, nd.b = kBool, x
	case string:
		nd.k, nd.s = kStr, x
	case SafeString:
		nd.k, nd.s = kStr, string(x)
	case float64:
		nd.k, nd.n = kNum, x
	case float32:
		nd.k, nd.n = kNum, float64(x)
	case int:
		nd.k, nd.n = kNum, float64(x)
	case int64:
		nd.k, nd.n = kNum, float64(x)
	case int32:
		nd.k, nd.n = kNum, float64(x)
	case json.Number:
		nd.k, nd.s = kStr, string(x)
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			nd.k, nd.n = kNum, f
		} else {
			nd.num = true
		}
	case Object:
		b.nodes = b.nodes[:at]
		if x.n == nil {
			b.add(key, nil)
			return
		}
		b.copy(key, x.n)
	case map[string]any:
		b.nodes = b.nodes[:at]
		b.merge(key, x, noMembers)
	case []any:
		nd.k, nd.len = kArr, int32(len(x))
		for _, e := range x {
			b.add("", e)
		}
		b.nodes[at].span = int32(len(b.nodes) - at)
	case []string:
		nd.k, nd.len = kArr, int32(len(x))
		for _, e := range x {
			b.add("", e)
		}
		b.nodes[at].span = int32(len(b.nodes) - at)
	default:
		// Another Go type (a stored profile holds none): as JSON.
		var doc any
		raw, err := json.Marshal(x)
		if err == nil {
			err = json.Unmarshal(raw, &doc)
		}
		b.nodes = b.nodes[:at]
		if err != nil {
			doc = nil
		}
		b.add(key, doc)
	}
}

// countAny bounds the nodes add makes of v.
func countAny(v any) int {
	switch x := v.(type) {
	case map[string]any:
		n := 1
		for _, e := range x {
			n += countAny(e)
		}
		return n
	case []any:
		n := 1
		for _, e := range x {
			n += countAny(e)
		}
		return n
	case []string:
		return 1 + len(x)
	case Object:
		if x.n != nil {
			return int(x.n.span)
		}
	}
	return 1
}
