package profile

import (
	"reflect"
	"testing"

	"github.com/sidecar-voip/sidecar/request"
)

// TestDataMirrorsRequest guards the copy in newData: templates must see every exported field
// and method of request.Request, under the same name and type, so that the documented
// template language stays "the request's fields".
func TestDataMirrorsRequest(t *testing.T) {
	rt, dt := reflect.TypeFor[request.Request](), reflect.TypeFor[Data]()
	for i := range rt.NumField() {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		df, ok := dt.FieldByName(f.Name)
		if !ok || df.Type != f.Type {
			t.Errorf("Data lacks field %s %s of request.Request", f.Name, f.Type)
		}
	}
	rp, dp := reflect.TypeFor[*request.Request](), reflect.TypeFor[*Data]()
	for i := range rp.NumMethod() {
		m := rp.Method(i)
		dm, ok := dp.MethodByName(m.Name)
		if !ok || dm.Type.NumIn() != m.Type.NumIn() || dm.Type.NumOut() != m.Type.NumOut() {
			t.Errorf("Data lacks method %s of *request.Request", m.Name)
		}
	}

	req := request.Sample()
	d := NewData(req, "t", map[string]string{"user": "alice"}, RoleCallee)
	rv, dv := reflect.ValueOf(req).Elem(), reflect.ValueOf(d).Elem()
	for i := range rt.NumField() {
		if f := rt.Field(i); f.IsExported() && !reflect.DeepEqual(rv.Field(i).Interface(), dv.FieldByName(f.Name).Interface()) {
			t.Errorf("newData copied %s wrong", f.Name)
		}
	}
	if d.Header("X-MailBoxId") != "1002" || d.Param("USER") != "alice" || d.Param("nope") != "" || d.Request() != req {
		t.Errorf("Data methods do not reach the request: %+v", d)
	}
}
