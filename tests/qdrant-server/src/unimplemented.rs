//! Methods of Qdrant's gRPC services this test server does not serve:
//! each answers UNIMPLEMENTED naming itself. Generated from qdrant-client's
//! service traits so the server fails loudly, never silently.

macro_rules! unimplemented_methods {
    ($($name:ident($req:ident) -> $resp:ident;)*) => {$(
        // The signature #[async_trait] gives its methods: the attribute runs
        // before this macro expands, so it is spelled out here.
        fn $name<'life0, 'async_trait>(
            &'life0 self,
            _request: tonic::Request<qdrant_client::qdrant::$req>,
        ) -> ::std::pin::Pin<Box<dyn ::std::future::Future<
            Output = Result<tonic::Response<qdrant_client::qdrant::$resp>, tonic::Status>> + Send + 'async_trait>>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            Box::pin(async move {
                Err(tonic::Status::unimplemented(concat!(stringify!($name), " is not served by the qdrant-edge test server")))
            })
        }
    )*};
}

macro_rules! unimplemented_collections {
    () => {
        unimplemented_methods! {
            update(UpdateCollection) -> CollectionOperationResponse;
            update_aliases(ChangeAliases) -> CollectionOperationResponse;
            list_collection_aliases(ListCollectionAliasesRequest) -> ListAliasesResponse;
            list_aliases(ListAliasesRequest) -> ListAliasesResponse;
            collection_cluster_info(CollectionClusterInfoRequest) -> CollectionClusterInfoResponse;
            update_collection_cluster_setup(UpdateCollectionClusterSetupRequest) -> UpdateCollectionClusterSetupResponse;
            create_shard_key(CreateShardKeyRequest) -> CreateShardKeyResponse;
            delete_shard_key(DeleteShardKeyRequest) -> DeleteShardKeyResponse;
            list_shard_keys(ListShardKeysRequest) -> ListShardKeysResponse;
        }
    };
}

macro_rules! unimplemented_points {
    () => {
        unimplemented_methods! {
            update_vectors(UpdatePointVectors) -> PointsOperationResponse;
            delete_vectors(DeletePointVectors) -> PointsOperationResponse;
            set_payload(SetPayloadPoints) -> PointsOperationResponse;
            overwrite_payload(SetPayloadPoints) -> PointsOperationResponse;
            delete_payload(DeletePayloadPoints) -> PointsOperationResponse;
            clear_payload(ClearPayloadPoints) -> PointsOperationResponse;
            create_field_index(CreateFieldIndexCollection) -> PointsOperationResponse;
            delete_field_index(DeleteFieldIndexCollection) -> PointsOperationResponse;
            create_vector_name(CreateVectorNameRequest) -> PointsOperationResponse;
            delete_vector_name(DeleteVectorNameRequest) -> PointsOperationResponse;
            search_batch(SearchBatchPoints) -> SearchBatchResponse;
            search_groups(SearchPointGroups) -> SearchGroupsResponse;
            recommend(RecommendPoints) -> RecommendResponse;
            recommend_batch(RecommendBatchPoints) -> RecommendBatchResponse;
            recommend_groups(RecommendPointGroups) -> RecommendGroupsResponse;
            discover(DiscoverPoints) -> DiscoverResponse;
            discover_batch(DiscoverBatchPoints) -> DiscoverBatchResponse;
            update_batch(UpdateBatchPoints) -> UpdateBatchResponse;
            query_batch(QueryBatchPoints) -> QueryBatchResponse;
            query_groups(QueryPointGroups) -> QueryGroupsResponse;
            facet(FacetCounts) -> FacetResponse;
            search_matrix_pairs(SearchMatrixPoints) -> SearchMatrixPairsResponse;
            search_matrix_offsets(SearchMatrixPoints) -> SearchMatrixOffsetsResponse;
        }
    };
}
