// Original file: ../../proto/lowart/v1/models.proto


export interface ListModelsRequest {
}

export interface ListModelsRequest__Output {
}
