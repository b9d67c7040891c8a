package event

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestFoldGroups: the schema names that differ only in case, found from
// the table, each with the first declared spelling as its Fold.
func TestFoldGroups(t *testing.T) {
	groups := map[string][]string{}
	for _, f := range Fields() {
		if f.ID.Folded() {
			assert.False(t, f.Virtual)
			assert.True(t, strings.EqualFold(f.Name, f.Fold.Name()))
			assert.LessOrEqual(t, f.Fold, f.ID, "the first declared spelling")
			groups[f.Fold.Name()] = append(groups[f.Fold.Name()], f.Name)
		} else {
			assert.Equal(t, f.ID, f.Fold, "%s has no other spelling", f.Name)
		}
	}
	assert.Equal(t, map[string][]string{
		"ProcessId":         {"ProcessId", "ProcessID", "processid"},
		"LogonId":           {"LogonId", "LogonID"},
		"SourceProcessGuid": {"SourceProcessGuid", "SourceProcessGUID"},
		"TargetProcessGuid": {"TargetProcessGuid", "TargetProcessGUID"},
		"Consumer":          {"Consumer", "CONSUMER"},
		"ID":                {"ID", "Id"},
		"CategoryId":        {"CategoryId", "CategoryID"},
	}, groups)
}

// TestSpellingFollowsDefinition: an event type's spelling of a folded name
// is the one it declares; without one (or without a definition) the Fold.
func TestSpellingFollowsDefinition(t *testing.T) {
	sp := func(channel string, id uint16, name string) string {
		return Lookup(channel, id).Spelling(MustField(name)).Name()
	}
	assert.Equal(t, "ProcessId", sp(ChannelSysmon, 1, "processid"))
	assert.Equal(t, "ProcessID", sp(ChannelSecurity, 5156, "ProcessId"))
	assert.Equal(t, "processid", sp(ChannelWMIActivity, 5859, "ProcessID"))
	assert.Equal(t, "SourceProcessGUID", sp(ChannelSysmon, 10, "SourceProcessGuid"))
	assert.Equal(t, "SourceProcessGuid", sp(ChannelSysmon, 8, "SourceProcessGUID"))
	assert.Equal(t, "CategoryID", sp(ChannelDefender, 1116, "CategoryId"))
	assert.Equal(t, "LogonId", sp(ChannelSecurity, 4825-1, "LogonID"), "no such definition: the Fold")
	assert.Equal(t, "ProcessId", sp(ChannelSecurity, 4719, "ProcessID"), "declares none of the group: the Fold")
	assert.Equal(t, "Image", sp(ChannelSecurity, 5156, "Image"), "not folded: itself")
	var nilDef *Def
	assert.Equal(t, MustField("ID"), nilDef.Spelling(MustField("Id")))
}
