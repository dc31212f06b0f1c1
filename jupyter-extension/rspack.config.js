// Merged into @jupyter/builder's config. The builder exposes the entry points by absolute path,
// so the default (hashed) ids of the container module would change with the checkout's location;
// ids in module order keep the committed bundle identical wherever it is rebuilt.
module.exports = {
  optimization: {
    moduleIds: 'natural',
    chunkIds: 'natural'
  }
};
