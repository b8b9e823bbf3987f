package retrieval

import "strconv"

// The audit log records every change to a collection, whether it is made
// over the HTTP API or with the administration CLI. The functions below
// give both the same small facts to record as attributes: names, ids, the
// content hash and counts, never document text. The caller picks the
// record's kind and records the model (the result's Model) beside them.

// IngestAttrs describes an ingest of source into collection: the two
// names and, when the ingest was applied (res not nil), document_id,
// content_hash (of the stored version's normalised text), put_status
// (created, updated or unchanged), lang, chunks and embedded.
func IngestAttrs(collection, source string, res *IngestResult) map[string]string {
	a := attrs{"collection": collection}
	a.set("source", source)
	if res != nil {
		a.set("document_id", idAttr(res.DocumentID))
		a.set("content_hash", res.ContentHash)
		a.set("put_status", string(res.Status))
		a.set("lang", res.Lang)
		a["chunks"], a["embedded"] = strconv.Itoa(res.Chunks), strconv.Itoa(res.Embedded)
	}
	return a
}

// DeleteDocumentAttrs describes the deletion of document id from
// collection: the collection and document_id and, when the deletion was
// applied (deleted not nil), the removed version's source, content_hash
// and lang.
func DeleteDocumentAttrs(collection string, id int64, deleted *Document) map[string]string {
	a := attrs{"collection": collection}
	a.set("document_id", idAttr(id))
	if deleted != nil {
		a.set("source", deleted.Source)
		a.set("content_hash", deleted.ContentHash)
		a.set("lang", deleted.Lang)
	}
	return a
}

// DeleteCollectionAttrs describes the deletion of collection name: its
// name and, when the deletion was applied (deleted not nil), the counts of
// documents and chunks it held.
func DeleteCollectionAttrs(name string, deleted *Collection) map[string]string {
	a := attrs{"collection": name}
	if deleted != nil {
		a["documents"], a["chunks"] = strconv.Itoa(deleted.Documents), strconv.Itoa(deleted.Chunks)
	}
	return a
}

// ReembedAttrs describes a collection moved to another embedding model: c
// is the collection as Reembed returned it and previous the model it had
// before. The attributes are the collection, previous_model and
// previous_digest, dims, documents, chunks and the HNSW parameters
// hnsw_m, hnsw_ef_construction and hnsw_ef_search.
func ReembedAttrs(previous EmbeddingModel, c Collection) map[string]string {
	a := attrs{"collection": c.Name}
	a.set("previous_model", previous.Name)
	a.set("previous_digest", previous.Digest)
	a["dims"] = strconv.Itoa(c.Model.Dims)
	a["documents"], a["chunks"] = strconv.Itoa(c.Documents), strconv.Itoa(c.Chunks)
	a["hnsw_m"] = strconv.Itoa(c.Index.M)
	a["hnsw_ef_construction"] = strconv.Itoa(c.Index.EfConstruction)
	a["hnsw_ef_search"] = strconv.Itoa(c.Index.EfSearch)
	return a
}

type attrs map[string]string

// set sets k unless v is empty.
func (a attrs) set(k, v string) {
	if v != "" {
		a[k] = v
	}
}

// idAttr is a document id as an attribute ("" for none).
func idAttr(id int64) string {
	if id <= 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}
